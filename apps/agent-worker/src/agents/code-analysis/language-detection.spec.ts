import { detectLanguage, isNotCode, normalizeLanguage } from './language-detection';

describe('language names', () => {
  it.each([
    ['py', 'python'], ['Python3', 'python'], ['ts', 'typescript'], ['tsx', 'tsx'], ['jsx', 'javascript'], ['node', 'javascript'],
    ['c++', 'cpp'], ['C#', 'csharp'], ['golang', 'go'], ['rs', 'rust'], ['rb', 'ruby'], ['bash', 'shell'], ['kt', 'kotlin'], ['elixir', 'elixir'],
  ])('normalises %s to %s', (tag, language) => {
    expect(normalizeLanguage(tag)).toBe(language);
  });

  it('knows data and prose tags are not code', () => {
    for (const tag of ['json', 'yaml', 'text', 'markdown', 'diff', 'console']) expect(isNotCode(tag)).toBe(true);
    for (const tag of ['python', 'javascript', 'elixir']) expect(isNotCode(tag)).toBe(false);
  });
});

describe('detectLanguage', () => {
  it.each([
    ['python', 'import os\n\ndef main(argv):\n    if not argv:\n        return None\n'],
    ['typescript', "import { x } from './x';\nexport interface User { id: string }\nconst n: number = 1;"],
    ['javascript', "const fs = require('fs');\nfunction read(p) {\n  console.log(p);\n}\nmodule.exports = read;"],
    ['java', 'public class Main {\n  public static void main(String[] args) {\n    System.out.println("hi");\n  }\n}'],
    ['csharp', 'using System;\nclass P { static void Main() { Console.WriteLine("hi"); } }'],
    ['go', 'package main\n\nimport "fmt"\n\nfunc main() {\n\tx := 1\n\tfmt.Println(x)\n}'],
    ['rust', 'use std::io;\n\nfn main() {\n    let mut s = String::new();\n    println!("{}", s);\n}'],
    ['c', '#include <stdio.h>\n\nint main(void) {\n  printf("hi\\n");\n  return 0;\n}'],
    ['cpp', '#include <iostream>\nint main() {\n  std::cout << "hi";\n}'],
    ['php', '<?php\n$x = 1;\necho $x;'],
    ['ruby', "require 'json'\n\nclass A\n  attr_reader :x\n  def initialize(x)\n    @x = x\n  end\nend"],
    ['shell', '#!/usr/bin/env bash\nset -e\nif [ -z "$1" ]; then\n  echo usage\nfi'],
    ['kotlin', 'data class P(val x: Int)\nfun main() {\n  val p = P(1)\n}'],
    ['swift', 'import Foundation\nfunc greet(name: String) -> String {\n  guard !name.isEmpty else { return "" }\n  return name\n}'],
  ])('recognises %s', (language, code) => {
    expect(detectLanguage(code)).toBe(language);
  });

  it('gives up on prose', () => {
    expect(detectLanguage('Hello there, how are you today?')).toBe('unknown');
  });
});
