// Types of gen-api.mjs for the TypeScript code that imports it (generated.spec.ts).
export declare const apiDir: string
export declare const outDir: string
export declare const openapiFile: string
export declare const websocketFile: string
/** The generated files: name in src/api/generated → contents. */
export declare function generate(): Promise<Record<string, string>>
