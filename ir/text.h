/* text.h - internals of the textual IR shared by lex.c, parse.c and print.c.
 *
 * The lexer turns the source into tokens on demand (one token of lookahead
 * is all the grammar needs).  It knows nothing about the grammar: keywords,
 * op names and dtype names are all plain identifiers, and number tokens are
 * only delimited here; parse.c decides what a token means in context.
 */
#ifndef QNNC_IR_TEXT_H
#define QNNC_IR_TEXT_H

#include "ir.h"

typedef enum {
    TK_EOF,
    TK_IDENT,  /* [A-Za-z_][A-Za-z0-9_]*: keywords, op/dtype/attribute names */
    TK_VALUE,  /* %name; p points at the '%' */
    TK_GLOBAL, /* @name; p points at the '@' */
    TK_NUMBER, /* a numeric literal, validated by the parser */
    TK_STRING, /* "..." including the quotes, escapes not yet decoded */
    TK_PUNCT,  /* one of { } ( ) [ ] , : = ; p[0] is the character */
} TokKind;

typedef struct Token {
    TokKind kind;
    const char *p;
    int len;
    SrcLoc loc;
} Token;

typedef struct Lexer {
    const char *file;
    const char *cur, *end;
    const char *line_start;
    int line;
} Lexer;

void lex_init(Lexer *l, const char *file, const char *text, size_t len);
/* Reads the next token into *T.  On a lexical error it reports through diag
 * and returns false. */
bool lex_next(Lexer *l, Token *t);

/* True for the characters allowed in %value and @graph names. */
bool text_is_name_char(int c);

/* Formats F so that parsing the text gives back exactly the same bits:
 * "%.9g" for finite numbers (nine significant digits identify a binary32),
 * "nan" for the canonical quiet NaN, "inf"/"-inf", and "0x7FC00001"-style
 * bit patterns for every other NaN.  BUF needs TEXT_FLOAT_BUF bytes. */
#define TEXT_FLOAT_BUF 32
const char *text_format_float(char *buf, float f);

#endif /* QNNC_IR_TEXT_H */
