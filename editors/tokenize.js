// tokenize.js GRAMMAR FILE... prints the tokens of each file as JSON
// lines {file, line, text, scopes}, using the engine VS Code uses
// (vscode-textmate with the Oniguruma regular expressions of
// vscode-oniguruma). editors_test.go runs it when both are installed.
'use strict';
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
const onigLib = oniguruma.loadWASM(wasm.buffer).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));

const [grammarPath, ...files] = process.argv.slice(2);
const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scopeName) => {
    if (scopeName !== 'source.smw') return null;
    return vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath);
  },
});

registry.loadGrammar('source.smw').then((grammar) => {
  if (!grammar) throw new Error('the grammar did not load');
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    let state = vsctm.INITIAL;
    lines.forEach((line, i) => {
      const r = grammar.tokenizeLine(line, state);
      for (const t of r.tokens) {
        const text = line.substring(t.startIndex, t.endIndex);
        if (text.trim() === '') continue;
        process.stdout.write(JSON.stringify({ file, line: i + 1, text, scopes: t.scopes }) + '\n');
      }
      state = r.ruleStack;
    });
  }
}).catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
