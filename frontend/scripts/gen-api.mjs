// Generates the wire types in src/api/generated/ from the contract in api/:
//
//   openapi.ts    from api/openapi.yaml             with openapi-typescript
//   websocket.ts  from api/websocket.schema.json    with json-schema-to-typescript
//
// The WebSocket schema refers to openapi.yaml's components/schemas for the
// shapes both share (JobStatus, ItemResult, ...). Those $refs are turned into
// references to the generated `components` type of openapi.ts instead of
// being inlined a second time, so each shared shape has one TypeScript type.
//
//   npm run gen:api            write the files
//   npm run gen:api -- --check exit 1 when the committed files are out of date
//
// src/api/generated/generated.spec.ts runs generate() inside `npm test` and
// fails when the committed files differ from what api/ produces now.
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { dirname, join, relative, resolve } from 'node:path'
import openapiTS, { astToString } from 'openapi-typescript'
import { compile } from 'json-schema-to-typescript'
import ts from 'typescript'

const here = dirname(fileURLToPath(import.meta.url))
const frontend = resolve(here, '..')
export const apiDir = resolve(frontend, '..', 'api')
export const outDir = resolve(frontend, 'src', 'api', 'generated')
export const openapiFile = join(apiDir, 'openapi.yaml')
export const websocketFile = join(apiDir, 'websocket.schema.json')

const require = createRequire(import.meta.url)
const version = (pkg) => require(`${pkg}/package.json`).version

/** $ref prefix of the shapes the WebSocket schema shares with openapi.yaml. */
const SHARED_REF = 'openapi.yaml#/components/schemas/'

function header(source, generator) {
  return [
    `// Generated from ${source} by ${generator} ${version(generator)}: do not edit.`,
    '// Change the contract in api/ and run `npm run gen:api` (scripts/gen-api.mjs);',
    '// src/api/generated/generated.spec.ts fails while this file is out of date.',
  ].join('\n')
}

/** openapi.yaml → TypeScript (paths, components, operations), and the names of its schemas. */
async function openapiTypes() {
  const ast = await openapiTS(new URL(`file://${openapiFile}`), {
    // Keep the schemas' order and names as written; no runtime code.
    alphabetize: false,
    exportType: false,
  })
  hoistSelfReferences(ast)
  const text = `${header('api/openapi.yaml', 'openapi-typescript')}\n\n${astToString(ast)}`
  return { text, schemas: schemaNames(ast) }
}

const f = ts.factory

/** X when node is components['schemas']['X']. */
function schemaRef(node) {
  if (!ts.isIndexedAccessTypeNode(node) || !ts.isIndexedAccessTypeNode(node.objectType)) return null
  const outer = node.objectType
  const lit = (n) => (ts.isLiteralTypeNode(n) && ts.isStringLiteral(n.literal) ? n.literal.text : null)
  const isComponents = ts.isTypeReferenceNode(outer.objectType) && ts.isIdentifier(outer.objectType.typeName) && outer.objectType.typeName.text === 'components'
  return isComponents && lit(outer.indexType) === 'schemas' ? lit(node.indexType) : null
}

function refersTo(node, name) {
  if (schemaRef(node) === name) return true
  return ts.forEachChild(node, (c) => refersTo(c, name) || undefined) ?? false
}

/**
 * openapi-typescript writes a self-referencing schema (NestedNumbers: a number
 * or an array of NestedNumbers) as a property whose type indexes itself,
 * which TypeScript rejects (TS2502; openapi-ts/openapi-typescript#1603). Such
 * a schema becomes a top-level recursive type alias, which TypeScript accepts,
 * and components['schemas'] refers to it.
 */
function hoistSelfReferences(ast) {
  const at = ast.findIndex((n) => ts.isInterfaceDeclaration(n) && n.name.text === 'components')
  if (at < 0) return
  const comp = ast[at]
  const aliases = []
  const members = comp.members.map((cm) => {
    if (!ts.isPropertySignature(cm) || cm.name.text !== 'schemas' || !cm.type || !ts.isTypeLiteralNode(cm.type)) return cm
    const schemas = cm.type.members.map((m) => {
      const name = m.name?.text
      if (!ts.isPropertySignature(m) || !m.type || !name || !refersTo(m.type, name)) return m
      const visit = (n) => (schemaRef(n) === name ? f.createTypeReferenceNode(name) : ts.visitEachChild(n, visit, ts.nullTransformationContext))
      const alias = f.createTypeAliasDeclaration([f.createModifier(ts.SyntaxKind.ExportKeyword)], name, undefined, visit(m.type))
      ts.setSyntheticLeadingComments(alias, ts.getSyntheticLeadingComments(m))
      aliases.push(alias)
      return f.updatePropertySignature(m, m.modifiers, m.name, m.questionToken, f.createTypeReferenceNode(name))
    })
    return f.updatePropertySignature(cm, cm.modifiers, cm.name, cm.questionToken, f.updateTypeLiteralNode(cm.type, f.createNodeArray(schemas)))
  })
  ast[at] = f.updateInterfaceDeclaration(comp, comp.modifiers, comp.name, comp.typeParameters, comp.heritageClauses, members)
  ast.splice(at, 0, ...aliases)
}

/** The members of components['schemas'] in openapi-typescript's AST. */
function schemaNames(ast) {
  const components = ast.find((n) => ts.isInterfaceDeclaration(n) && n.name.text === 'components')
  const schemas = components?.members.find((m) => m.name && ts.isPropertySignature(m) && m.name.text === 'schemas')
  if (!schemas?.type || !ts.isTypeLiteralNode(schemas.type)) throw new Error('openapi-typescript: no components.schemas in its output')
  return new Set(schemas.type.members.map((m) => m.name?.text).filter(Boolean))
}

/**
 * Replaces every {"$ref": "openapi.yaml#/components/schemas/X"} with a
 * reference to components['schemas']['X'] of openapi.ts, checking that X
 * exists there. Returns the schemas referred to.
 */
function linkSharedSchemas(node, known, used) {
  if (Array.isArray(node)) {
    node.forEach((n) => linkSharedSchemas(n, known, used))
    return
  }
  if (node === null || typeof node !== 'object') return
  const ref = node.$ref
  if (typeof ref === 'string' && !ref.startsWith('#')) {
    // NAME, or a path into it through properties/P and items.
    const m = ref.startsWith(SHARED_REF) ? /^([A-Za-z0-9_]+)((?:\/properties\/[A-Za-z0-9_]+|\/items)*)$/.exec(ref.slice(SHARED_REF.length)) : null
    if (!m) throw new Error(`websocket.schema.json: unsupported $ref ${ref} (only ${SHARED_REF}NAME[/properties/P|/items]...)`)
    const [, name, path] = m
    if (!known.has(name)) throw new Error(`websocket.schema.json: $ref ${ref}: openapi.yaml has no components/schemas/${name}`)
    const index = path
      .split('/')
      .filter(Boolean)
      .map((seg, i, all) => (seg === 'items' ? '[number]' : all[i - 1] === 'properties' ? `['${seg}']` : ''))
      .join('')
    delete node.$ref
    node.tsType = `components['schemas']['${name}']${index}`
    used.add(name)
  }
  for (const v of Object.values(node)) linkSharedSchemas(v, known, used)
}

/** websocket.schema.json → TypeScript, one type per message plus the unions. */
async function websocketTypes(openapiSchemaNames) {
  const schema = JSON.parse(await readFile(websocketFile, 'utf8'))
  const used = new Set()
  linkSharedSchemas(schema, openapiSchemaNames, used)
  const banner = [
    header('api/websocket.schema.json', 'json-schema-to-typescript'),
    '',
    used.size ? "import type { components } from './openapi'" : '',
  ].join('\n')
  const options = {
    bannerComment: banner,
    cwd: apiDir,
    additionalProperties: false,
    strictIndexSignatures: true,
    enableConstEnums: false,
    // The app's code style.
    style: { bracketSpacing: true, printWidth: 120, semi: false, singleQuote: true, tabWidth: 2, trailingComma: 'all', useTabs: false },
    $refOptions: { resolve: { external: false, http: false } },
  }
  let out = await compile(structuredClone(schema), 'WebSocketMessage', options)
  // $defs the root does not reach (CloseCode): json-schema-to-typescript's
  // unreachableDefinitions only works for an object root, so compile each
  // on its own, with the root's $defs for its internal refs.
  for (const [key, def] of Object.entries(schema.$defs ?? {})) {
    const name = def.title ?? key
    if (new RegExp(`^export (type|interface) ${name}\\b`, 'm').test(out)) continue
    const one = await compile({ ...structuredClone(def), $defs: structuredClone(schema.$defs) }, name, {
      ...options,
      bannerComment: '',
      declareExternallyReferenced: false,
    })
    out = `${out.trimEnd()}\n${one}`
  }
  return out
}

/** The generated files: name in src/api/generated → contents. */
export async function generate() {
  const openapi = await openapiTypes()
  const websocket = await websocketTypes(openapi.schemas)
  const eol = (s) => s.replace(/\r\n/g, '\n').trimEnd() + '\n'
  return { 'openapi.ts': eol(openapi.text), 'websocket.ts': eol(websocket) }
}

async function main() {
  const check = process.argv.includes('--check')
  const files = await generate()
  let stale = 0
  await mkdir(outDir, { recursive: true })
  for (const [name, text] of Object.entries(files)) {
    const path = join(outDir, name)
    const current = await readFile(path, 'utf8').catch(() => null)
    if (current === text) continue
    if (check) {
      console.error(`${relative(frontend, path)} is out of date: run npm run gen:api`)
      stale++
    } else {
      await writeFile(path, text)
      console.warn(`wrote ${relative(frontend, path)}`)
    }
  }
  if (stale) process.exitCode = 1
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e)
    process.exitCode = 1
  })
}
