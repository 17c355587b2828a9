// A tools/call result as text, for the action's output excerpt (the SDK cuts it to length and
// the gateway redacts it). Non-text content is named, not inlined: an image's bytes say nothing
// a reader of the record needs.

export interface ToolResult {
  content?: unknown;
  structuredContent?: unknown;
  isError?: boolean;
  [key: string]: unknown;
}

function blockText(b: unknown): string {
  if (b === null || typeof b !== 'object') return '';
  const block = b as Record<string, unknown>;
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' ? block.text : '';
    case 'image':
    case 'audio':
      return `[${block.type} ${String(block.mimeType ?? '')}]`.replace(' ]', ']');
    case 'resource': {
      const r = (block.resource ?? {}) as Record<string, unknown>;
      return typeof r.text === 'string' ? r.text : `[resource ${String(r.uri ?? '')}]`;
    }
    case 'resource_link':
      return `[resource_link ${String(block.uri ?? '')}]`;
    default:
      return `[${String(block.type ?? 'content')}]`;
  }
}

export function resultText(result: ToolResult): string {
  const parts = Array.isArray(result.content) ? result.content.map(blockText).filter((s) => s !== '') : [];
  if (parts.length > 0) return parts.join('\n');
  if (result.structuredContent !== undefined) {
    try {
      return JSON.stringify(result.structuredContent) ?? '';
    } catch {
      return '[unserializable structuredContent]';
    }
  }
  return '';
}
