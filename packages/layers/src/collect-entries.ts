import { LayerError } from './errors.js';
import { DIRECTORY_MODE, type LayerEntry, SYMLINK_PARENT_MODE } from './layer-entry.js';
import type { CheckedSource, SourceItem } from './layer-source.js';
import { type WalkState, walkItem } from './walk-item.js';

type TreeNode =
  | TreeFolder
  | { kind: 'item'; item: SourceItem }
  | { kind: 'symlink'; target: string };

interface TreeFolder {
  kind: 'folder';
  mode: number;
  children: Map<string, TreeNode>;
}

/**
 * Lists every entry of the layer in archive order: a depth-first walk from the image root, parents
 * before children and siblings sorted by the bytes of their names. The store folders, the items and
 * the extra symlinks (with any folders above them) share that one order.
 */
export function collectEntries(source: CheckedSource): LayerEntry[] {
  const root = buildTree(source);
  const state: WalkState = { entries: [] };
  addChildren(root, '', state);
  return state.entries;
}

function buildTree(source: CheckedSource): TreeFolder {
  const root: TreeFolder = { kind: 'folder', mode: DIRECTORY_MODE, children: new Map() };

  let storeFolder = root;
  for (const part of source.storeDirParts) {
    const folder: TreeFolder = { kind: 'folder', mode: DIRECTORY_MODE, children: new Map() };
    storeFolder.children.set(part, folder);
    storeFolder = folder;
  }
  for (const item of source.items) {
    storeFolder.children.set(item.baseName, { kind: 'item', item });
  }

  // Folders first, so that a symlink inside one of them finds it and keeps its mode.
  for (const { parts, mode } of source.directories) {
    addExtraFolder(root, parts, mode);
  }

  for (const { parts, target } of source.symlinks) {
    const path = `/${parts.join('/')}`;
    let folder = root;
    for (const [index, part] of parts.entries()) {
      const existing = folder.children.get(part);
      const isLeaf = index === parts.length - 1;
      if (existing !== undefined && (isLeaf || existing.kind !== 'folder')) {
        const clash = `/${parts.slice(0, index + 1).join('/')}`;
        throw new LayerError(
          'INVALID_SOURCE',
          `invalid symlink ${path}: ${clash} is already in the layer`,
          {
            path,
          },
        );
      }
      if (isLeaf) {
        folder.children.set(part, { kind: 'symlink', target });
      } else if (existing === undefined) {
        const parent: TreeFolder = {
          kind: 'folder',
          mode: SYMLINK_PARENT_MODE,
          children: new Map(),
        };
        folder.children.set(part, parent);
        folder = parent;
      } else {
        folder = existing as TreeFolder;
      }
    }
  }
  return root;
}

/** Places an extra folder, and any missing folders above it, in the tree. */
function addExtraFolder(root: TreeFolder, parts: string[], mode: number): void {
  let folder = root;
  for (const [index, part] of parts.entries()) {
    const existing = folder.children.get(part);
    const isLeaf = index === parts.length - 1;
    if (existing !== undefined && (existing.kind !== 'folder' || isLeaf)) {
      const path = `/${parts.slice(0, index + 1).join('/')}`;
      throw new LayerError(
        'INVALID_SOURCE',
        `invalid folder /${parts.join('/')}: ${path} is already in the layer`,
        {
          path,
        },
      );
    }
    if (existing !== undefined) {
      folder = existing as TreeFolder;
      continue;
    }
    const child: TreeFolder = {
      kind: 'folder',
      mode: isLeaf ? mode : SYMLINK_PARENT_MODE,
      children: new Map(),
    };
    folder.children.set(part, child);
    folder = child;
  }
}

function addChildren(folder: TreeFolder, prefix: string, state: WalkState): void {
  const names = [...folder.children.keys()].sort((a, b) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  for (const name of names) {
    const node = folder.children.get(name) as TreeNode;
    const entryName = `${prefix}${name}`;
    if (node.kind === 'folder') {
      state.entries.push({ type: 'directory', name: `${entryName}/`, mode: node.mode });
      addChildren(node, `${entryName}/`, state);
    } else if (node.kind === 'symlink') {
      state.entries.push({ type: 'symlink', name: entryName, target: node.target });
    } else {
      walkItem(node.item.diskPath, entryName, state);
    }
  }
}
