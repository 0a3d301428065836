import { FALLBACK_PROFILE, profileFor } from './language-profiles';
import { LITERAL_MARK, stripSource } from './source-stripper';

const strip = (language: string, code: string) => stripSource(code, profileFor(language) ?? FALLBACK_PROFILE);
const visible = (code: string) => code.replace(new RegExp(`${LITERAL_MARK} *`, 'g'), 'S').replace(/ +/g, ' ');

describe('stripSource', () => {
  it('blanks comments and literal contents but keeps every line break and offset', () => {
    const code = 'a = "if\\" x"; // if\r\nb /* while\n for */ c\n';
    const out = strip('java', code);
    expect(out.code).toHaveLength(code.length);
    expect(out.code.split(/\r\n|\n/)).toHaveLength(code.split(/\r\n|\n/).length);
    expect(visible(out.code)).toBe('a = S; \r\nb \n c\n');
    expect(out.comments.map((c) => [c.line, c.text])).toEqual([[1, '// if'], [2, '/* while\n for */']]);
  });

  it('nests block comments where the language does', () => {
    expect(visible(strip('rust', '/* a /* b */ if */ x').code)).toBe(' x');
    expect(visible(strip('java', '/* a /* b */ if */ x').code)).toBe(' if */ x');
  });

  it('handles C# verbatim strings and Java text blocks', () => {
    expect(visible(strip('csharp', 'var p = @"C:\\dir\\""if"""; if').code)).toBe('var p = S; if');
    expect(visible(strip('java', 'String s = """\n  if "x" while\n  """; for').code)).toBe('String s = S\n \n ; for');
  });

  it('ends an unterminated single-line string at the line break', () => {
    const out = strip('c', 'char *s = "oops\nif (x) {}');
    expect(visible(out.code)).toBe('char *s = S\nif (x) {}');
  });

  it('tells Rust lifetimes from char literals', () => {
    expect(visible(strip('rust', "fn f<'a>(c: char) -> bool { c == '{' || c == '\\'' }").code)).toBe("fn f<'a>(c: char) -> bool { c == S|| c == S}");
  });

  it('handles Ruby =begin/=end, regexes after operators and division elsewhere', () => {
    const out = strip('ruby', '=begin\nif\n=end\nx = a / b / c\ny =~ /#{z}if/\n');
    expect(visible(out.code)).toBe(' \n \n \nx = a / b / c\ny =~ S\n');
    expect(out.tally.counts()).toMatchObject({ commentLines: 3, linesOfCode: 2 });
  });

  it('counts lines inside multi-line literals as code (blank ones as blank) and comment-only lines as comments', () => {
    const out = strip('go', 'x := `a\n\nb` // c\n// d\n\n');
    expect(out.tally.counts()).toEqual({ linesOfCode: 2, commentLines: 1, blankLines: 2, totalLines: 5 });
  });
});
