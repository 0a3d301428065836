import { analyzeGeneric } from './generic-analyzer';

const rules = (issues: Array<{ rule: string; line?: number }>) => issues.map((i) => `${i.rule}@${i.line}`);
const summary = (language: string, code: string) => {
  const m = analyzeGeneric(code, language);
  return { cc: m.cyclomaticComplexity, nesting: m.maxNesting, fns: m.functions.map((f) => [f.name, f.complexity, f.params, f.lines, f.maxNesting]) };
};

describe('analyzeGeneric', () => {
  it('measures Java, ignoring keywords in strings, chars and comments', () => {
    const code = [
      'public class Foo {', //                                        1
      '  // if (x) { while (y) {} }', //                               2 comment
      '  public int classify(int n, String s) {', //                   3
      '    String t = "if (a && b) { for"; char c = \'{\';', //        4
      '    /* while (true) { } */', //                                 5 comment
      '    if (n < 0 && s != null) {', //                              if, &&    +2
      '      return -1;',
      '    } else if (n == 0) {', //                                   else if   +1
      '      for (int i = 0; i < 3; i++) {', //                        for       +1
      '        while (i > n) { n++; }', //                             while     +1
      '      }',
      '    }',
      '    try { run(); } catch (Exception e) { }', //                 catch     +1
      '    return n > 10 ? 1 : 0;', //                                 ?:        +1
      '  }',
      '  @Override',
      '  public String toString() { return "Foo"; }',
      '}',
    ].join('\n');
    const m = analyzeGeneric(code, 'java');
    expect(m.functions).toEqual([
      { name: 'classify', line: 3, complexity: 8, lines: 13, params: 2, maxNesting: 3 },
      { name: 'toString', line: 17, complexity: 1, lines: 1, params: 0, maxNesting: 0 },
    ]);
    expect(m).toMatchObject({ cyclomaticComplexity: 8, linesOfCode: 16, commentLines: 2, blankLines: 0, totalLines: 18 });
    expect(rules(m.issues)).toEqual(['empty-catch@13']);
  });

  it('measures Go: receivers, header statements, func literals, switch cases', () => {
    const code = `package main

// TODO: handle errors
func (s *Server) Handle(a, b int, name string) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	for i := 0; i < a; i++ {
		switch {
		case i > b:
			fmt.Println("case if")
		case i == b && a > 0:
			return i, nil
		default:
		}
	}
	f := func() { if a > 0 { a-- } }
	f()
	return a, nil
}`;
    expect(summary('go', code)).toEqual({ cc: 7, nesting: 2, fns: [['Handle', 7, 3, 17, 2]] });
    expect(rules(analyzeGeneric(code, 'go').issues)).toEqual(['todo-comment@3']);
  });

  it('measures Rust: match arms except `_`, raw strings, lifetimes, self receivers', () => {
    const code = `impl Foo {
    fn classify<'a>(&self, n: i32, s: &'a str) -> &'a str {
        let label = match n {
            0 => "zero",
            1 | 2 => "small",
            _ => "big",
        };
        let r = r#"if "quoted" while"#;
        if n > 0 && s.len() > 1 { label } else { r }
    }
}`;
    expect(summary('rust', code)).toEqual({ cc: 5, nesting: 1, fns: [['classify', 5, 2, 9, 1]] });
  });

  it('measures C and C++: char literals, raw strings, struct-returning functions, qualified names', () => {
    const c = `int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    if (argv[i][0] == '-' || argv[i][0] == '"') { goto done; }
  }
done:
  return argc > 1 ? 0 : 1;
}
struct point make(int x, int y) { struct point p = {x, y}; return p; }
void none(void) {}`;
    expect(summary('c', c)).toEqual({ cc: 5, nesting: 2, fns: [['main', 5, 2, 7, 2], ['make', 1, 2, 1, 0], ['none', 1, 0, 1, 0]] });
    expect(rules(analyzeGeneric(c, 'c').issues)).toEqual(['goto@3']);
    const cpp = 'int Parser::Node::depth(const std::vector<int>& v, std::map<int, int> m) const {\n  auto s = R"(if (x) { "quoted" })";\n  return v.empty() ? 0 : 1;\n}';
    expect(summary('cpp', cpp)).toEqual({ cc: 2, nesting: 0, fns: [['Parser::Node::depth', 2, 2, 4, 0]] });
  });

  it('measures Kotlin when-arms and skips nested quotes inside string templates', () => {
    const code = `fun describe(x: Any): String {
    val s = "when \${if (x == 1) "a" else "b"} for"
    return when (x) {
        1 -> "one"
        is String -> "str"
        else -> "other"
    }
}`;
    expect(summary('kotlin', code)).toEqual({ cc: 3, nesting: 1, fns: [['describe', 3, 1, 8, 1]] });
  });

  it('measures PHP and flags loose comparison', () => {
    const code = `<?php
function total($items, $tax = 0.2) {
    $label = "if $tax"; // if
    foreach ($items as $i) {
        if ($i->price == 0 || $i->free) { continue; }
    }
    return $sum ?? 0;
}`;
    expect(summary('php', code)).toEqual({ cc: 5, nesting: 2, fns: [['total', 5, 2, 7, 2]] });
    expect(rules(analyzeGeneric(code, 'php').issues)).toEqual(['eqeqeq@5']);
  });

  it('measures Ruby: modifier ifs, do blocks, regexes, %w, heredocs, endless methods', () => {
    const code = `class Greeter
  # a comment with if
  def greet(name, greeting = "hi")
    return nil if name.nil?
    names = %w[a b if]
    names.each do |n|
      if n.empty? && name
        puts "#{n ? "x" : "y"}"
      elsif n =~ /if|while/
        next
      end
    end
    text = <<~EOS
      if while until
    EOS
    name.empty? ? greeting : name
  end

  def self.build = new
end`;
    const m = analyzeGeneric(code, 'ruby');
    expect(summary('ruby', code)).toEqual({ cc: 6, nesting: 2, fns: [['Greeter#greet', 6, 2, 15, 2]] });
    expect(m).toMatchObject({ commentLines: 1, blankLines: 1, totalLines: 20 });
  });

  it('measures shell: functions, if/elif/fi, loops, heredocs, $# is not a comment', () => {
    const code = `#!/bin/bash
count=\${#ARR[@]}
greet() {
  if [ "$1" = "if" ] && [ -n "$2" ]; then
    for x in a b; do
      echo "$x"
    done
  elif [ -z "$1" ]; then
    echo none
  fi
}
cat <<EOF
if while
EOF`;
    const m = analyzeGeneric(code, 'shell');
    expect(summary('shell', code)).toEqual({ cc: 5, nesting: 2, fns: [['greet', 5, 0, 9, 2]] });
    expect(m).toMatchObject({ commentLines: 1, linesOfCode: 13 });
  });

  it('falls back to C-style rules for languages without a profile, and says so', () => {
    const m = analyzeGeneric('fn main() {\n  if (a && b) { print("if"); }\n}', 'zig');
    expect(m.cyclomaticComplexity).toBe(3);
    expect(m.language).toBe('zig');
    expect(m.issues[0]).toMatchObject({ rule: 'generic-analysis', severity: 'info' });
  });
});
