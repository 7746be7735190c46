// The smithc extension: starts `smithc lsp` for .smw files and connects
// VS Code to it over stdio. Plain CommonJS, no build step.
'use strict';
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('smithc').get('path') || 'smithc';
  const serverOptions = {
    run: { command, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command, args: ['lsp'], transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'smw' }, { scheme: 'untitled', language: 'smw' }],
  };
  client = new LanguageClient('smithc', 'smithc language server', serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start().catch((err) => {
    vscode.window.showErrorMessage(`smithc: cannot start "${command} lsp": ${err.message}. Set smithc.path to the smithc binary.`);
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
