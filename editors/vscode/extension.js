// Starts `lightdsl lsp` (stdio) for .lit files; everything else is the server's.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("lightdsl").get("command");
  client = new LanguageClient("lightdsl", "lightdsl", { command, args },
    { documentSelector: [{ scheme: "file", language: "lightdsl" }] });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
