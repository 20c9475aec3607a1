// Types of source-digest.mjs, for the tests that import it.
export function sourceDigest(root: string): string;
export const SOURCES_RECORD: string;
export const SOURCES_BEFORE: string;
export function noteSourcesBefore(root: string): void;
export function recordSources(root: string): boolean;
