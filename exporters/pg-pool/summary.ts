// Turns SQL text into a bounded, literal-free label: the db_query_summary and db_operation_name.
//
// A small tokenizer, not a parser: it knows enough of PostgreSQL's lexical rules (strings with all
// their prefixes, dollar quoting, nested comments, numbers, parameters, quoted identifiers) that no
// literal can survive. When in doubt (an unterminated string or comment) everything after that
// point is treated as a literal, so the summary fails closed.

/** Longest summary kept; longer normalised statements are cut and end with "…". */
export const DEFAULT_MAX_SUMMARY_LENGTH = 160;

type Token =
  | { kind: 'word'; text: string } // keyword or unquoted identifier
  | { kind: 'ident'; text: string } // "quoted identifier", kept verbatim
  | { kind: 'literal' } // string, number, $n parameter: printed as ?
  | { kind: 'punct'; text: string };

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const OPERATOR_CHARS = '+-*/<>=~!@#%^&|`?';

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;

  /** Skips a '…' string starting at the quote at `start`; backslash escapes when `escapes`. */
  const skipQuoted = (start: number, escapes: boolean): number => {
    let j = start + 1;
    while (j < n) {
      const c = sql[j];
      if (escapes && c === '\\') {
        j += 2;
        continue;
      }
      if (c === "'") {
        if (sql[j + 1] === "'") {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return n; // unterminated: the rest is literal
  };

  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];

    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // -- line comment
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    // /* nested block comment */
    if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      i = j;
      continue;
    }
    // 'string'
    if (c === "'") {
      i = skipQuoted(i, false);
      tokens.push({ kind: 'literal' });
      continue;
    }
    // E'…', B'…', X'…', N'…' and U&'…' strings
    if (/[EeBbXxNn]/.test(c) && next === "'") {
      i = skipQuoted(i + 1, c === 'E' || c === 'e');
      tokens.push({ kind: 'literal' });
      continue;
    }
    if ((c === 'U' || c === 'u') && next === '&' && sql[i + 2] === "'") {
      i = skipQuoted(i + 2, false);
      tokens.push({ kind: 'literal' });
      continue;
    }
    // "quoted identifier" (U&"…" too): an identifier, not a value
    if (c === '"' || ((c === 'U' || c === 'u') && next === '&' && sql[i + 2] === '"')) {
      const open = c === '"' ? i : i + 2;
      let j = open + 1;
      while (j < n) {
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      if (j >= n) {
        // unterminated: fail closed
        tokens.push({ kind: 'literal' });
        i = n;
        continue;
      }
      tokens.push({ kind: 'ident', text: sql.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    // $1 parameter, or $tag$ … $tag$ dollar-quoted string
    if (c === '$') {
      if (next !== undefined && DIGIT.test(next)) {
        let j = i + 1;
        while (j < n && DIGIT.test(sql[j] as string)) j++;
        tokens.push({ kind: 'literal' });
        i = j;
        continue;
      }
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const delimiter = tag[0];
        const end = sql.indexOf(delimiter, i + delimiter.length);
        i = end === -1 ? n : end + delimiter.length;
        tokens.push({ kind: 'literal' });
        continue;
      }
      tokens.push({ kind: 'punct', text: c });
      i++;
      continue;
    }
    // numbers: 42, 4.2, .5, 1e-3, 0x1F, 1_000
    if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      const number = /^(?:0[xXoObB][0-9A-Fa-f_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/.exec(sql.slice(i));
      let j = i + Math.max(1, number?.[0].length ?? 1);
      // A number glued to letters (e.g. 123abc) is still one literal.
      while (j < n && WORD_PART.test(sql[j] as string)) j++;
      tokens.push({ kind: 'literal' });
      i = j;
      continue;
    }
    if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < n && WORD_PART.test(sql[j] as string)) j++;
      tokens.push({ kind: 'word', text: sql.slice(i, j) });
      i = j;
      continue;
    }
    if (OPERATOR_CHARS.includes(c)) {
      let j = i + 1;
      while (j < n && OPERATOR_CHARS.includes(sql[j] as string)) j++;
      tokens.push({ kind: 'punct', text: sql.slice(i, j) });
      i = j;
      continue;
    }
    if (c === ':' && next === ':') {
      tokens.push({ kind: 'punct', text: '::' });
      i += 2;
      continue;
    }
    tokens.push({ kind: 'punct', text: c });
    i++;
  }
  return tokens;
}

const isLiteral = (t: Token | undefined) => t?.kind === 'literal';
const isPunct = (t: Token | undefined, text: string) => t?.kind === 'punct' && t.text === text;

/**
 * Collapses lists of values: `(?, ?, ?)` → `(?)`, `ARRAY[?, ?]` → `ARRAY[?]`, and repeated
 * `(?), (?)` rows of a multi-row VALUES → `(?)`. Keeps label values stable whatever the list length.
 */
function collapseLists(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (const token of tokens) {
    out.push(token);
    if (token.kind !== 'punct' || (token.text !== ')' && token.text !== ']')) continue;
    const open = token.text === ')' ? '(' : '[';
    // find the matching opener, checking the group holds only literals and commas
    let j = out.length - 2;
    let onlyValues = true;
    let sawValue = false;
    while (j >= 0 && !isPunct(out[j], open)) {
      const t = out[j];
      if (isLiteral(t)) sawValue = true;
      else if (!isPunct(t, ',') && !isPunct(t, '-') && !isPunct(t, '+')) onlyValues = false;
      j--;
    }
    if (j < 0 || !onlyValues || !sawValue) continue;
    out.splice(j, out.length - j, { kind: 'punct', text: open }, { kind: 'literal' }, { kind: 'punct', text: token.text });
    // `(?), (?)` → `(?)`
    const k = out.length - 3;
    if (open === '(' && isPunct(out[k - 1], ',') && isPunct(out[k - 2], ')') && isLiteral(out[k - 3]) && isPunct(out[k - 4], '(')) {
      out.splice(k - 1, 4);
    }
  }
  return out;
}

/** Keywords written with a space before "(" (anything else followed by "(" reads as a call). */
const SPACED_KEYWORDS = new Set(['IN', 'VALUES', 'AS', 'AND', 'OR', 'NOT', 'ON', 'EXISTS', 'FROM', 'JOIN', 'WHERE', 'USING', 'SELECT', 'THEN', 'ELSE', 'WHEN', 'BY', 'SET', 'RETURNING', 'LATERAL', 'OVER']);

function render(tokens: Token[]): string {
  let text = '';
  let previous: Token | undefined;
  for (const token of tokens) {
    const piece = token.kind === 'literal' ? '?' : token.text;
    const glueLeft = token.kind === 'punct' && [',', ')', ']', ';', '.', '::'].includes(token.text);
    const glueRight = previous?.kind === 'punct' && ['(', '[', '.', '::'].includes(previous.text);
    const call = token.kind === 'punct' && (token.text === '(' || token.text === '[') && (previous?.kind === 'ident' || (previous?.kind === 'word' && !SPACED_KEYWORDS.has(previous.text.toUpperCase())));
    if (text && !glueLeft && !glueRight && !call) text += ' ';
    text += piece;
    previous = token;
  }
  return text;
}

/** Normalises SQL into a literal-free summary: literals and parameters → ?, lists collapsed, whitespace collapsed. */
export function normaliseStatement(sql: string, maxLength = DEFAULT_MAX_SUMMARY_LENGTH): string {
  const tokens = collapseLists(tokenize(sql));
  // drop trailing semicolons
  while (isPunct(tokens[tokens.length - 1], ';')) tokens.pop();
  const text = render(tokens);
  if (text.length <= maxLength) return text;
  return `${text.slice(0, Math.max(1, maxLength - 1)).trimEnd()}…`;
}

/** Statement keywords reported as db_operation_name; anything else is OTHER. */
const OPERATIONS = new Set([
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'VALUES', 'TABLE', 'WITH',
  'BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE', 'PREPARE',
  'EXECUTE', 'DEALLOCATE', 'DECLARE', 'FETCH', 'MOVE', 'CLOSE',
  'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'COMMENT', 'GRANT', 'REVOKE', 'REINDEX', 'CLUSTER', 'REFRESH',
  'COPY', 'SET', 'SHOW', 'RESET', 'DISCARD', 'EXPLAIN', 'ANALYZE', 'VACUUM', 'CHECKPOINT',
  'LISTEN', 'NOTIFY', 'UNLISTEN', 'LOCK', 'DO', 'CALL', 'LOAD', 'SECURITY', 'IMPORT',
]);

const MAIN_VERBS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'VALUES', 'TABLE']);

export type TransactionControl = 'begin' | 'commit' | 'rollback' | undefined;

export interface StatementInfo {
  /** Upper-case statement keyword (WITH resolves to the main statement's verb), or OTHER. */
  operation: string;
  /** Whether the statement opens, commits or rolls back a transaction. */
  transaction: TransactionControl;
}

/** Reads the statement keyword and transaction control from SQL text. */
export function describeStatement(sql: string): StatementInfo {
  const tokens = tokenize(sql);
  const words: string[] = [];
  // first few top-level words are enough for everything below, except WITH
  for (const t of tokens.slice(0, 4)) if (t.kind === 'word') words.push(t.text.toUpperCase());
  const first = words[0];
  if (first === undefined || !OPERATIONS.has(first)) return { operation: 'OTHER', transaction: undefined };

  let operation = first;
  if (first === 'WITH') {
    // the first main verb at parenthesis depth 0 after the CTE list
    let depth = 0;
    for (const t of tokens.slice(1)) {
      if (isPunct(t, '(')) depth++;
      else if (isPunct(t, ')')) depth--;
      else if (depth === 0 && t.kind === 'word' && MAIN_VERBS.has(t.text.toUpperCase())) {
        operation = t.text.toUpperCase();
        break;
      }
    }
  }

  let transaction: TransactionControl;
  const second = words[1];
  if (first === 'BEGIN' || (first === 'START' && second === 'TRANSACTION')) transaction = 'begin';
  else if ((first === 'COMMIT' || first === 'END') && second !== 'PREPARED') transaction = 'commit';
  else if ((first === 'ROLLBACK' || first === 'ABORT') && second !== 'PREPARED' && second !== 'TO' && !words.includes('TO')) {
    transaction = 'rollback';
  }
  // Multi-statement strings ("BEGIN; …; COMMIT") are not tracked as transactions.
  if (transaction && tokens.some((t, index) => isPunct(t, ';') && index < tokens.length - 1)) transaction = undefined;
  return { operation, transaction };
}
