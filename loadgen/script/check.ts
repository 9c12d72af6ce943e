// The static check: every use of a k6 module in a script file is one perfstack's engine
// implements. It runs on each file as it is bundled, so an unsupported API fails before any load
// starts, naming the API, the file and the line.

import ts from 'typescript';
import { MODULES } from '../k6/modules.js';

export interface CheckProblem {
  message: string;
  line: number; // 1-based
  column: number; // 0-based, as esbuild reports
  lineText: string;
}

const SUPPORTED_LIST = Object.keys(MODULES).join(', ');

function refusal(module: string, name: string): string {
  const spec = MODULES[module];
  const why = spec?.refused?.[name];
  const api = module === 'k6' ? `${name} (from "k6")` : `${module}.${name}`;
  return why ? `${api} is not supported by perfstack’s engine: ${why}` : `${api} is not supported by perfstack’s engine (${module} has: ${spec?.names.join(', ') ?? ''})`;
}

/** Problems in one source file; empty when every k6 API it uses is supported. */
export function checkScriptSource(fileName: string, text: string): CheckProblem[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const problems: CheckProblem[] = [];
  const bindings = new Map<string, string>(); // local name of a default or namespace import → module
  const report = (node: ts.Node, message: string) => {
    const start = node.getStart(source);
    const { line, character } = source.getLineAndCharacterOfPosition(start);
    problems.push({ message, line: line + 1, column: character, lineText: text.split('\n')[line] ?? '' });
  };

  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier)) continue;
    const module = specifier.text;
    if (/^https?:\/\//.test(module)) {
      report(specifier, `remote module "${module}" is not supported: perfstack’s engine loads no code from the network; vendor the file next to the script`);
      continue;
    }
    if (module !== 'k6' && !module.startsWith('k6/')) continue;
    if (ts.isImportDeclaration(statement) && statement.importClause?.isTypeOnly) continue;
    if (module === 'k6/options' && ts.isImportDeclaration(statement)) {
      // k6/options has types only; a value import would be undefined at run time.
      const clause = statement.importClause;
      const onlyTypes = clause && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((e) => e.isTypeOnly);
      if (!onlyTypes) report(specifier, 'k6/options has only types: import them with `import type`');
      continue;
    }
    const spec = MODULES[module];
    if (!spec) {
      report(specifier, `module "${module}" is not supported by perfstack’s engine (supported: ${SUPPORTED_LIST})`);
      continue;
    }
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (!clause) continue;
      if (clause.name) bindings.set(clause.name.text, module);
      const named = clause.namedBindings;
      if (named && ts.isNamespaceImport(named)) bindings.set(named.name.text, module);
      if (named && ts.isNamedImports(named)) {
        for (const element of named.elements) {
          if (element.isTypeOnly) continue;
          const imported = (element.propertyName ?? element.name).text;
          if (imported === 'default') bindings.set(element.name.text, module);
          else if (!spec.names.includes(imported)) report(element, refusal(module, imported));
        }
      }
    } else if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) {
        const exported = (element.propertyName ?? element.name).text;
        if (exported !== 'default' && !spec.names.includes(exported)) report(element, refusal(module, exported));
      }
    }
  }

  if (bindings.size > 0) {
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
        const module = bindings.get(node.expression.text);
        const name = node.name.text;
        if (module && !MODULES[module]?.names.includes(name)) report(node.name, refusal(module, name));
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return problems;
}
