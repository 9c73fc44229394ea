/* lex.c - the tokenizer of the textual IR (docs/ir-syntax.md).
 *
 * Whitespace, including newlines, only separates tokens; "//" starts a
 * comment that runs to the end of the line.  The lexer never reads past
 * l->end, so the text does not have to be NUL-terminated, and a NUL byte
 * inside it is an error rather than an early end of input.
 */
#include <stdio.h>

#include "text.h"

void lex_init(Lexer *l, const char *file, const char *text, size_t len)
{
    l->file = file;
    l->cur = text;
    l->end = text + len;
    l->line_start = text;
    l->line = 1;
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

bool text_is_name_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '.' || c == '$' || c == '-';
}

static SrcLoc loc_at(const Lexer *l, const char *p)
{
    return (SrcLoc){l->file, l->line, (int)(p - l->line_start) + 1};
}

/* Skips whitespace and comments, keeping the line count. */
static void skip_space(Lexer *l)
{
    while (l->cur < l->end) {
        char c = *l->cur;
        if (c == '\n') {
            l->cur++;
            l->line++;
            l->line_start = l->cur;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            l->cur++;
        } else if (c == '/' && l->cur + 1 < l->end && l->cur[1] == '/') {
            while (l->cur < l->end && *l->cur != '\n')
                l->cur++;
        } else {
            break;
        }
    }
}

/* Delimits a numeric literal starting at P.  The parser validates the
 * spelling, so this only has to find where the literal ends: a run of
 * letters, digits and dots, with a sign allowed at the start and right after
 * the exponent letter of a decimal literal ("1e+10", but not "0x1e+1"). */
static const char *scan_number(const Lexer *l, const char *p)
{
    const char *start = p;
    if (*p == '-' || *p == '+')
        p++;
    bool hex = l->end - p >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    while (p < l->end) {
        char c = *p;
        if (is_alpha(c) || is_digit(c) || c == '.') {
            p++;
        } else if ((c == '+' || c == '-') && !hex && p > start &&
                   (p[-1] == 'e' || p[-1] == 'E')) {
            p++;
        } else {
            break;
        }
    }
    return p;
}

static void report_char(const Lexer *l, const char *p)
{
    unsigned char c = (unsigned char)*p;
    if (c == 0)
        diag_error(loc_at(l, p), "unexpected NUL byte");
    else if (c >= 0x20 && c < 0x7f)
        diag_error(loc_at(l, p), "unexpected character '%c'", c);
    else
        diag_error(loc_at(l, p), "unexpected character '\\x%02X'", c);
}

bool lex_next(Lexer *l, Token *t)
{
    skip_space(l);
    const char *p = l->cur;
    t->p = p;
    t->loc = loc_at(l, p);
    if (p == l->end) {
        t->kind = TK_EOF;
        t->len = 0;
        return true;
    }

    char c = *p;
    const char *q = p + 1;
    if (is_alpha(c)) {
        while (q < l->end && (is_alpha(*q) || is_digit(*q)))
            q++;
        t->kind = TK_IDENT;
    } else if (c == '%' || c == '@') {
        while (q < l->end && text_is_name_char((unsigned char)*q))
            q++;
        if (q == p + 1) {
            diag_error(t->loc, c == '%' ? "expected a value name after '%%'"
                                        : "expected a graph name after '@'");
            return false;
        }
        t->kind = c == '%' ? TK_VALUE : TK_GLOBAL;
    } else if (is_digit(c) || ((c == '-' || c == '+' || c == '.') && q < l->end &&
                               (is_digit(*q) || is_alpha(*q) || *q == '.'))) {
        q = scan_number(l, p);
        t->kind = TK_NUMBER;
    } else if (c == '"') {
        /* Escapes are decoded by the parser; here we only need to skip an
         * escaped quote so that it does not end the string. */
        while (q < l->end && *q != '"' && *q != '\n' && *q != '\0') {
            if (*q == '\\' && q + 1 < l->end && q[1] != '\n' && q[1] != '\0')
                q++;
            q++;
        }
        if (q < l->end && *q == '\0') {
            report_char(l, q);
            return false;
        }
        if (q == l->end || *q != '"') {
            diag_error(t->loc, "unterminated string");
            return false;
        }
        q++;
        t->kind = TK_STRING;
    } else if (c == '{' || c == '}' || c == '(' || c == ')' || c == '[' || c == ']' ||
               c == ',' || c == ':' || c == '=') {
        t->kind = TK_PUNCT;
    } else {
        report_char(l, p);
        return false;
    }
    t->len = (int)(q - p);
    l->cur = q;
    return true;
}
