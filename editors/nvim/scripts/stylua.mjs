// StyLua (its WebAssembly build from npm: no binary download, runs offline) over every Lua file of
// the Neovim plugin, with the options in ../.stylua.toml.
//   node scripts/stylua.mjs --check   list the files that are not formatted (exit 1 if any)
//   node scripts/stylua.mjs --write   format them in place
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as stylua from '@johnnymorganz/stylua';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENUMS = {
  block_newline_gaps: stylua.BlockNewlineGaps,
  call_parentheses: stylua.CallParenType,
  collapse_simple_statement: stylua.CollapseSimpleStatement,
  indent_type: stylua.IndentType,
  line_endings: stylua.LineEndings,
  quote_style: stylua.QuoteStyle,
  space_after_function_names: stylua.SpaceAfterFunctionNames,
  syntax: stylua.LuaVersion,
};

function loadConfig() {
  const config = stylua.Config.new();
  for (const raw of readFileSync(join(root, '.stylua.toml'), 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [, key, value] = line.match(/^(\w+)\s*=\s*(.+)$/) ?? [];
    if (!key) throw new Error(`.stylua.toml: cannot read "${raw}"`);
    const text = value.replace(/^"(.*)"$/, '$1');
    if (ENUMS[key]) {
      if (!(text in ENUMS[key])) throw new Error(`.stylua.toml: ${key} cannot be ${text}`);
      config[key] = ENUMS[key][text];
    } else {
      config[key] = /^\d+$/.test(text) ? Number(text) : text === 'true' ? true : text === 'false' ? false : text;
    }
  }
  return config;
}

function* luaFiles(folder) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* luaFiles(path);
    else if (entry.name.endsWith('.lua')) yield path;
  }
}

const write = process.argv.includes('--write');

const unformatted = [];
for (const path of luaFiles(root)) {
  const source = readFileSync(path, 'utf8');
  // formatCode takes ownership of (and frees) its Config: a new one per file.
  const formatted = stylua.formatCode(source, loadConfig(), undefined, stylua.OutputVerification.None);
  if (formatted === source) continue;
  if (write) writeFileSync(path, formatted);
  else unformatted.push(relative(root, path));
}
if (unformatted.length) {
  console.error(`stylua: not formatted (run: npm --prefix editors/nvim run format):\n  ${unformatted.join('\n  ')}`);
  process.exit(1);
}
console.log(`stylua: ${write ? 'formatted' : 'checked'} the Lua files of editors/nvim`);
