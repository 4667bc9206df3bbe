// node --test plugin-shim/test/
// gen-core's shortenLinkNames: wasm-bindgen's hashed import and export names
// lose their hash in the wasm and in the glue alike, each name stays unique,
// and everything else in the module is left as it was. A small module
// written here byte by byte (imports, exports, a memory) stands for
// wasm-bindgen's output.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const { shortenLinkNames } = require('../scripts/gen-core.cjs');

const name = (s) => [s.length, ...Buffer.from(s)];
const section = (id, body) => [id, body.length, ...body];

/** A module importing functions `imports` from `./bg.js` and exporting `exports` (each the function of the same index) and a memory. */
function module(imports, exports) {
  return Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(2, [imports.length, ...imports.flatMap((i) => [...name('./bg.js'), ...name(i), 0x00, 0])]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [
      exports.length + 1,
      ...exports.flatMap((e, i) => [...name(e), 0x00, i]),
      ...name('memory'), 0x02, 0,
    ]),
  ]);
}

const H1 = 'c3f72b5a24f83c01';
const H2 = '8b968c3ab8e96595';
const H3 = '49636e9d51a84ca0';

const CASES = [
  {
    name: 'an import hash goes',
    imports: [`__wbg_parse_${H1}`],
    exports: [],
    wantImports: ['__wbg_parse'],
    wantExports: ['memory'],
  },
  {
    name: 'two imports of one name: the second numbered',
    imports: [`__wbg_new_${H1}`, `__wbg_new_${H2}`],
    exports: [],
    wantImports: ['__wbg_new', '__wbg_new_1'],
    wantExports: ['memory'],
  },
  {
    name: 'a shortened name never takes one in use',
    imports: [`__wbg_new_${H1}`, '__wbg_new'],
    exports: [],
    wantImports: ['__wbg_new_1', '__wbg_new'],
    wantExports: ['memory'],
  },
  {
    name: 'an export hash (`__h`) goes',
    imports: ['__wbg_log'],
    exports: [`closures_____invoke__h${H3}`],
    wantImports: ['__wbg_log'],
    wantExports: ['closures_____invoke', 'memory'],
  },
  {
    name: 'names without a hash stay',
    imports: ['__wbindgen_init_externref_table', '__wbg_fetch_short'],
    exports: ['engine_new'],
    wantImports: ['__wbindgen_init_externref_table', '__wbg_fetch_short'],
    wantExports: ['engine_new', 'memory'],
  },
];

for (const c of CASES) {
  test(`shortenLinkNames: ${c.name}`, () => {
    const glue = [...c.imports, ...c.exports].map((n) => `${n}: function () { wasm.${n}(); },`).join('\n');
    const [wasm, linked] = shortenLinkNames(module(c.imports, c.exports), glue);
    const compiled = new WebAssembly.Module(wasm);
    assert.deepEqual(WebAssembly.Module.imports(compiled).map((i) => [i.module, i.name, i.kind]),
      c.wantImports.map((n) => ['./bg.js', n, 'function']));
    assert.deepEqual(WebAssembly.Module.exports(compiled).map((e) => e.name), c.wantExports);
    const wantGlue = [...c.wantImports, ...c.wantExports.filter((e) => e !== 'memory')]
      .map((n) => `${n}: function () { wasm.${n}(); },`).join('\n');
    assert.equal(linked, wantGlue);
  });
}

test('shortenLinkNames: a hashed name the glue never names is an error', () => {
  assert.throws(() => shortenLinkNames(module([`__wbg_new_${H1}`], []), 'nothing here'), /never names the wasm's __wbg_new_/);
});

test('shortenLinkNames: the type definitions get the same names', () => {
  const long = `closures_____invoke__h${H3}`;
  const [, , relink] = shortenLinkNames(module([], [long]), `${long}(a, b);`);
  assert.equal(relink(`  readonly ${long}: (a: number, b: number) => void;\n  readonly engine_new: () => void;\n`),
    '  readonly closures_____invoke: (a: number, b: number) => void;\n  readonly engine_new: () => void;\n');
});
