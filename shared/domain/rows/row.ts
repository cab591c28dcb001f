/** A row of a Log Analytics table: column name -> value; a column without a value is absent. */
export type Row = Record<string, string | number | boolean | object>;
