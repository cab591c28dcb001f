/**
 * Built-in Azure role definitions the template assigns, each in a named template variable. The GUIDs are the
 * same in every tenant (Microsoft's built-in roles reference); a test checks every assignment uses one of these.
 */
export interface BuiltInRole {
  /** The role's display name in the Azure built-in roles reference. */
  readonly name: string;
  /** The role definition GUID. */
  readonly id: string;
}

export const BUILT_IN_ROLES = {
  roleMonitoringMetricsPublisher: {
    name: 'Monitoring Metrics Publisher',
    id: '3913510d-42f4-4e42-8a64-420c390055eb',
  },
  roleSentinelResponder: { name: 'Microsoft Sentinel Responder', id: '3e150937-b8fe-4cfb-8069-0eaf05ecd056' },
  roleSentinelReader: { name: 'Microsoft Sentinel Reader', id: '8d289c81-5878-46d4-8554-54e1e3d8b5cb' },
  roleSentinelAutomationContributor: {
    name: 'Microsoft Sentinel Automation Contributor',
    id: 'f4c81013-99ee-4d62-a7ee-b3f1f648599a',
  },
  roleStorageBlobDataOwner: { name: 'Storage Blob Data Owner', id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' },
  roleStorageTableDataContributor: {
    name: 'Storage Table Data Contributor',
    id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  },
} as const satisfies Record<string, BuiltInRole>;

export type RoleVariable = keyof typeof BUILT_IN_ROLES;
