/**
 * What PostgreSQL can store. An event it cannot (a NUL in a text column, say) would fail the
 * sink's every retry and hold the partition up, so ingest refuses it, naming the field.
 */
import { ValidationError } from './event.ts';

/** How deep JSON may nest: a request body, counting its own array or object, or a payload. */
export const maxDepth = 64;

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL cannot store this text (in `text` or in `jsonb`), or undefined when it can. */
export function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000), which PostgreSQL cannot store';
  if (loneSurrogate.test(text)) return 'contains a lone surrogate, which is not Unicode text';
  return undefined;
}

/**
 * Throws ValidationError naming the first string, key or number in `value` that PostgreSQL
 * cannot store, or where it nests deeper than `maxDepth`. Walks with its own stack, so no
 * nesting overflows the call stack.
 */
export function checkStorable(value: unknown, field: string): void {
  const pending: { value: unknown; field: string; depth: number }[] = [{ value, field, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: v, field: at, depth } = next;
    if (typeof v === 'string') {
      const why = unstorableText(v);
      if (why !== undefined) throw new ValidationError(at, why);
    } else if (typeof v === 'number') {
      // JSON.parse reads 1e400 as Infinity, which JSON cannot write back.
      if (!Number.isFinite(v)) throw new ValidationError(at, 'a number out of range');
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= maxDepth) throw new ValidationError(at, `nested deeper than ${maxDepth} levels`);
      const members = Array.isArray(v) ? v.map((item, i) => [`${at}[${i}]`, item] as const) : Object.entries(v).map(([key, item]) => {
        const why = unstorableText(key);
        if (why !== undefined) throw new ValidationError(at, `a key ${why}`);
        return [memberField(at, key), item] as const;
      });
      // Last first onto the stack, so the first bad member is the one named.
      for (let i = members.length - 1; i >= 0; i--) pending.push({ field: members[i]![0], value: members[i]![1], depth: depth + 1 });
    }
  }
}

/**
 * Whether JSON text nests deeper than `maxDepth`, read without parsing it: JSON.parse takes
 * any depth, but what walks the result recursively afterwards (JSON.stringify) overflows.
 */
export function nestsTooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function memberField(at: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}
