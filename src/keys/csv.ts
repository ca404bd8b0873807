// AWS's API key CSV format (reference section 3): Name and Key required; Description, Enabled, UsagePlanIds
// optional; headers case-insensitive in any order, unknown columns ignored; fields quoted with " or '.
// Problems are reported by row (1 = the header line) so a large file can be fixed in one pass.

export interface CsvKeyRow {
  /** Line number in the file (the header is line 1). */
  readonly row: number;
  readonly name: string;
  readonly value: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly plans: readonly string[];
}

export interface CsvProblem {
  readonly row: number;
  readonly message: string;
}

/** Splits CSV text into records of fields; a quote opened and never closed is a problem of its row. */
export function parseCsvRecords(text: string): { records: { row: number; fields: string[] }[]; problems: CsvProblem[] } {
  const records: { row: number; fields: string[] }[] = [];
  const problems: CsvProblem[] = [];
  let row = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  while (i < n) {
    const startRow = row;
    const fields: string[] = [];
    let broken: string | undefined;
    for (;;) {
      let field = '';
      const c = text[i];
      if (c === '"' || c === "'") {
        const quote = c;
        i++;
        let closed = false;
        while (i < n) {
          const ch = text[i]!;
          if (ch === quote) {
            if (text[i + 1] === quote) {
              field += quote;
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (ch === '\n') row++;
          field += ch;
          i++;
        }
        if (!closed) {
          broken = `a ${quote === '"' ? 'double' : 'single'} quote opened on this row is never closed`;
          break;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          broken = `unexpected text after a closing quote in field ${fields.length + 1}`;
          while (i < n && text[i] !== '\n') i++;
          break;
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') broken ??= `a quote in the middle of unquoted field ${fields.length + 1}`;
          field += text[i];
          i++;
        }
      }
      fields.push(field);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    if (broken) problems.push({ row: startRow, message: broken });
    else if (!(fields.length === 1 && fields[0] === '')) records.push({ row: startRow, fields });
    row++;
    if (broken && !text.slice(i).length) break;
  }
  return { records, problems };
}

const BOOLEAN = new Map([['true', true], ['false', false]]);

export function parseKeyCsv(text: string): { rows: CsvKeyRow[]; problems: CsvProblem[] } {
  const { records, problems } = parseCsvRecords(text);
  const header = records.shift();
  if (!header) return { rows: [], problems: problems.length ? problems : [{ row: 1, message: 'the file is empty: the first line must name the columns (Name, Key, ...)' }] };
  const col = new Map<string, number>();
  header.fields.forEach((f, idx) => {
    const name = f.trim().toLowerCase();
    if (col.has(name)) problems.push({ row: header.row, message: `column ${JSON.stringify(f.trim())} appears twice` });
    else col.set(name, idx);
  });
  for (const required of ['name', 'key']) {
    if (!col.has(required)) problems.push({ row: header.row, message: `the required column ${required === 'name' ? 'Name' : 'Key'} is missing (columns: ${header.fields.join(', ')})` });
  }
  if (problems.some((p) => p.row === header.row)) return { rows: [], problems };
  const get = (fields: string[], name: string): string | undefined => {
    const idx = col.get(name);
    return idx === undefined ? undefined : fields[idx];
  };
  const rows: CsvKeyRow[] = [];
  for (const { row, fields } of records) {
    if (fields.length < header.fields.length) {
      problems.push({ row, message: `has ${fields.length} fields; the header names ${header.fields.length}` });
      continue;
    }
    const name = get(fields, 'name')!.trim();
    const value = get(fields, 'key')!.trim();
    const enabledText = (get(fields, 'enabled') ?? '').trim().toLowerCase();
    const enabled = enabledText === '' ? true : BOOLEAN.get(enabledText);
    if (name === '') problems.push({ row, message: 'Name is empty' });
    if (enabled === undefined) problems.push({ row, message: `Enabled must be true or false, got ${JSON.stringify(enabledText)}` });
    const plans = (get(fields, 'usageplanids') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    rows.push({ row, name, value, description: get(fields, 'description') ?? '', enabled: enabled ?? true, plans });
  }
  return { rows, problems };
}

/** One field, quoted when it needs to be. */
export function csvField(value: string): string {
  return /[",\r\n']/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
