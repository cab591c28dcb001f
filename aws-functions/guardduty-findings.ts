// Placeholder: the real handler is written in the next commit.
export const handler = async (): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => ({
  batchItemFailures: [],
});
