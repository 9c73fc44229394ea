/* report.h - the quantization report qnnc --report=FILE writes
 * (tools/report.c; docs/passes.md, "The quantization report").  Part of
 * the driver, not a pass: it runs after the pipeline, over its result. */
#ifndef QNNC_REPORT_H
#define QNNC_REPORT_H

#include "codegen.h" /* FlashReport */
#include "passes.h"

/* The quantization report (docs/passes.md, "report").  FLOAT_G is
 * the float graph quantization started from (NULL if quantize did not
 * run), G the final graph; JSON, a readable text summary, or one
 * self-contained HTML page.  TECHS lists the techniques compared: each
 * with the final graph the pipeline gives with it switched the other way
 * (NULL: not measured).  Written atomically. */
typedef enum { REPORT_JSON, REPORT_TEXT, REPORT_HTML } ReportFormat;
typedef struct ReportTechnique {
    const char *name;   /* its [quantization] key */
    bool on;            /* whether G was built with it */
    const Graph *other; /* the final graph with it switched, or NULL */
    /* Whether OTHER kept the precision set the build's mixed-precision
     * search chose (pinned as overrides) instead of searching again. */
    bool chosen_set;
    int search_evaluations; /* mixed-precision evaluations OTHER's run made (0: none) */
} ReportTechnique;
/* FLASH: the object's flash per layer (codegen/flash.c), or NULL (no
 * object was built). */
bool write_report(const char *path, const Graph *float_g, const Graph *g, const PassContext *ctx, ReportFormat fmt,
                  const ReportTechnique *techs, int num_techs, const FlashReport *flash);

#endif
