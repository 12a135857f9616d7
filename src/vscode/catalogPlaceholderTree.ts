/**
 * The Catalog view until the catalog is built (issue 4): no items, so the view shows its `viewsWelcome` text from
 * package.json, which says what is coming.
 */

import type * as vscode from "vscode";

export class CatalogPlaceholderTree implements vscode.TreeDataProvider<never> {
  getChildren(): never[] {
    return [];
  }

  getTreeItem(element: never): vscode.TreeItem {
    return element;
  }
}
