/* config.cc - reads the TOML compile configuration (qnnc.toml) into the
 * plain C struct of config.h.
 *
 * This is the one C++ file in qnnc, because the TOML parser is toml++.  The
 * C++ stays behind the extern "C" functions of config.h: toml++ is used
 * without exceptions (its parse() returns a toml::parse_result), every entry
 * point is noexcept so that nothing can unwind into C (out of memory inside
 * the standard library ends in std::terminate, as xmalloc would die), and
 * everything handed back is malloc'd C data.
 *
 * The schema is a table: one SectionSpec per [section], one KeySpec per key
 * with the function that checks and stores its value.  Every error is
 * collected with its position, and all of them are reported in file order at
 * the end, so a user fixes a config in one round, not one error per run.
 */

/* Debian's libtomlplusplus.so is built with exceptions, so it only exports
 * the throwing parse().  Compile toml++ into this file instead (header-only
 * mode) with exceptions off, overriding the definitions its CMake package
 * puts on the command line. */
#undef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#undef TOML_SHARED_LIB
#undef TOML_EXCEPTIONS
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "config.h"

struct ConfigKeyLoc {
    char *key; /* "section.key" */
    SrcLoc loc;
};

/* ---------------------------------------------------------------- name tables */

extern "C" {
const char *const config_scheme_names[] = {"int8", "int16x8", "hybrid", "none", nullptr};
const char *const config_method_names[] = {"minmax", "percentile", "entropy", "mse", nullptr};
const char *const config_format_names[] = {"auto", "npy", "idx", nullptr};
const char *const config_weights_names[] = {"embedded", "external", nullptr};
const char *const config_emit_names[] = {"obj", "asm", "llvm", "qir", "header", "exe", nullptr};
const char *const config_layout_names[] = {"model", "nchw", "nhwc", nullptr};
const char *const config_rounding_names[] = {"onnx", "tflite", nullptr};
const char *const config_triples[] = {"x86_64-linux-gnu", "aarch64-linux-gnu", "riscv64-linux-gnu",
                                      "thumbv7em-none-eabi", nullptr};
}

/* The words accepted in the config for the enums whose C values are not
 * simply an index into one of the tables above. */
static const char *const activation_names[] = {"i8", "u8", "i16", nullptr};
static const DType activation_dtypes[] = {DT_I8, DT_U8, DT_I16};
static const char *const override_dtype_names[] = {"f32", "i16", "i8", nullptr};
static const DType override_dtypes[] = {DT_F32, DT_I16, DT_I8};
static const char *const format_words[] = {"npy", "idx", nullptr}; /* DATA_NPY, DATA_IDX */

static_assert(EMIT_KIND_COUNT == 6, "config_emit_names lists every EmitKind");

/* Integer ranges, documented in docs/config.md. */
static const int64_t MAX_BATCH = INT32_MAX;
static const int64_t MIN_BINS = 128, MAX_BINS = 1 << 20;
static const int64_t MAX_SAMPLES = INT32_MAX;
static const int64_t MAX_TILE = 65536;

/* ---------------------------------------------------------------- small C helpers */

extern "C" int config_lookup(const char *const *names, const char *s, size_t len) noexcept
{
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

/* Optimal string alignment distance: Levenshtein plus adjacent
 * transpositions, the commonest typo ("sampels").  Case is ignored, so that
 * "NCHW" suggests "nchw". */
static int lower(char c)
{
    return tolower((unsigned char)c);
}

static int edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    std::vector<int> d((n + 1) * (m + 1));
    auto at = [&](size_t i, size_t j) -> int & { return d[i * (m + 1) + j]; };
    for (size_t i = 0; i <= n; i++)
        at(i, 0) = (int)i;
    for (size_t j = 0; j <= m; j++)
        at(0, j) = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int cost = lower(a[i - 1]) != lower(b[j - 1]);
            int v = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                v = std::min(v, at(i - 2, j - 2) + 1);
            at(i, j) = v;
        }
    }
    return at(n, m);
}

extern "C" const char *config_suggest(const char *word, const char *const *cands, int n) noexcept
{
    /* A third of the word's length, at least one edit: close enough to be a
     * typo, far enough apart not to suggest unrelated short words. */
    int limit = std::max(1, (int)(strlen(word) + 2) / 3);
    const char *best = nullptr;
    int best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        int dist = edit_distance(word, cands[i]);
        if (dist < best_d && dist < (int)strlen(cands[i])) {
            best = cands[i];
            best_d = dist;
        }
    }
    return best;
}

extern "C" bool config_is_identifier(const char *s) noexcept
{
    if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

extern "C" char *config_name_from_path(const char *path) noexcept
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    std::string s;
    if (n == 0 || isdigit((unsigned char)base[0]))
        s += '_';
    for (size_t i = 0; i < n; i++)
        s += isalnum((unsigned char)base[i]) ? base[i] : '_';
    return xstrdup(s.c_str());
}

extern "C" const char *config_host_triple(void) noexcept
{
#if defined(__x86_64__) && defined(__linux__)
    return "x86_64-linux-gnu";
#elif defined(__aarch64__) && defined(__linux__)
    return "aarch64-linux-gnu";
#elif defined(__riscv) && __riscv_xlen == 64 && defined(__linux__)
    return "riscv64-linux-gnu";
#else
    return nullptr;
#endif
}

extern "C" void config_set_string(char **field, const char *v) noexcept
{
    char *old = *field;
    *field = v ? xstrdup(v) : nullptr;
    free(old);
}

static void free_strings(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

extern "C" void config_set_strings(char ***field, int *count, const char *const *v, int n) noexcept
{
    char **nv = n ? (char **)xmalloc((size_t)n * sizeof *nv) : nullptr;
    for (int i = 0; i < n; i++)
        nv[i] = xstrdup(v[i]);
    free_strings(*field, *count);
    *field = nv;
    *count = n;
}

/* ---------------------------------------------------------------- defaults and freeing */

extern "C" void config_defaults(QnncConfig *cfg) noexcept
{
    memset(cfg, 0, sizeof *cfg);
    cfg->model.input_layout = LAYOUT_MODEL;
    cfg->model.batch = 1;
    cfg->quant.scheme = QSCHEME_INT8;
    cfg->quant.per_channel = true;
    cfg->quant.activation_dtype = DT_I8;
    /* Quantizing a float model, qnnc picks the integer-only requantization
     * of the TFLite int8 spec: bit-exact on every target with no floating
     * point in the generated code.  Pre-quantized ONNX models keep the onnx
     * mode they were specified in (the importer sets it per node). */
    cfg->quant.rounding = ROUND_TFLITE;
    cfg->calib.format = DATA_AUTO;
    cfg->calib.method = CALIB_MINMAX;
    cfg->calib.percentile = 99.99;
    cfg->calib.bins = 2048;
    cfg->calib.samples = 1000;
    cfg->calib.scale = 1.0 / 255.0;
    cfg->calib.offset = 0.0;
    cfg->output.emit = EMIT_OBJ | EMIT_HEADER;
    cfg->output.weights = WEIGHTS_EMBEDDED;
}

extern "C" void config_free(QnncConfig *cfg) noexcept
{
    /* The diag engine borrows the source text: leave it an empty one. */
    if (cfg->path && cfg->source)
        diag_add_source(cfg->path, "", 0);
    free(cfg->path);
    free(cfg->source);
    free(cfg->model.path);
    free(cfg->model.name);
    free(cfg->target.triple);
    free(cfg->target.cpu);
    free_strings(cfg->target.features, cfg->target.num_features);
    for (int i = 0; i < cfg->quant.num_overrides; i++)
        free(cfg->quant.overrides[i].node);
    free(cfg->quant.overrides);
    free_strings(cfg->calib.dataset, cfg->calib.num_dataset);
    free(cfg->output.object);
    free(cfg->output.header);
    free_strings(cfg->passes.disable, cfg->passes.num_disable);
    free(cfg->passes.disable_loc);
    for (int i = 0; i < cfg->num_locs; i++)
        free(cfg->locs[i].key);
    free(cfg->locs);
    config_defaults(cfg);
}

extern "C" SrcLoc config_key_loc(const QnncConfig *cfg, const char *key) noexcept
{
    for (int i = 0; i < cfg->num_locs; i++)
        if (strcmp(cfg->locs[i].key, key) == 0)
            return cfg->locs[i].loc;
    return SrcLoc{cfg->path, 0, 0};
}

/* ---------------------------------------------------------------- the loader */

namespace {

struct Error {
    SrcLoc loc;
    std::string message;
};

struct Loader;
typedef void (*KeyFn)(Loader &L, const std::string &key, const toml::node &v);

struct KeySpec {
    const char *name;
    KeyFn fn;
};

struct SectionSpec {
    const char *name;
    std::vector<KeySpec> keys;
};

std::string format(const char *fmt, ...) QNN_PRINTF(1, 2);
std::string format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::string s((size_t)n, '\0');
    va_start(ap, fmt);
    vsnprintf(&s[0], (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *type_name(toml::node_type t)
{
    switch (t) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    }
    return "a value";
}

/* "a", "b" or "c" */
std::string quoted_list(const char *const *names, const char *conj)
{
    std::string s;
    int n = 0;
    while (names[n])
        n++;
    for (int i = 0; i < n; i++) {
        if (i)
            s += i == n - 1 ? conj : ", ";
        s += '"';
        s += names[i];
        s += '"';
    }
    return s;
}

std::string number_text(double d)
{
    if (std::isinf(d))
        return d > 0 ? "inf" : "-inf";
    if (std::isnan(d))
        return "nan";
    return format("%g", d);
}

struct Loader {
    QnncConfig *cfg;
    std::string dir; /* the config file's directory with a trailing '/', or "" */
    std::vector<Error> errors;
    std::string section; /* the section being read, for key locations */
    bool activation_set = false;
    SrcLoc activation_loc{};
    bool format_set = false;
    SrcLoc dataset_loc{};

    SrcLoc loc(const toml::source_region &r) const
    {
        return SrcLoc{cfg->path, (int)r.begin.line, (int)r.begin.column};
    }

    void error(const toml::source_region &r, std::string msg)
    {
        errors.push_back(Error{loc(r), std::move(msg)});
    }

    void record(const std::string &key, const toml::node &v)
    {
        std::string full = section + "." + key;
        cfg->locs = (ConfigKeyLoc *)xrealloc(cfg->locs, (size_t)(cfg->num_locs + 1) * sizeof *cfg->locs);
        cfg->locs[cfg->num_locs++] = ConfigKeyLoc{xstrdup(full.c_str()), loc(v.source())};
    }

    /* Paths in the file are relative to the file. */
    std::string resolve(const std::string &p) const
    {
        return p.empty() || p[0] == '/' ? p : dir + p;
    }

    bool want(const std::string &key, const toml::node &v, toml::node_type t, const char *what)
    {
        if (v.type() == t)
            return true;
        error(v.source(), format("'%s' must be %s, not %s", key.c_str(), what, type_name(v.type())));
        return false;
    }

    /* A string, which no key allows to be empty. */
    bool get_string(const std::string &key, const toml::node &v, std::string &out)
    {
        if (!want(key, v, toml::node_type::string, "a string"))
            return false;
        out = v.as_string()->get();
        if (out.empty()) {
            error(v.source(), format("'%s' must not be empty", key.c_str()));
            return false;
        }
        return true;
    }

    /* An enum value given as a string: returns its index in NAMES or -1.
     * WHAT replaces "'KEY'" at the start of the message (for entries of an
     * array). */
    int get_enum(const std::string &key, const toml::node &v, const char *const *names, const char *what = nullptr)
    {
        if (!want(key, v, toml::node_type::string, "a string"))
            return -1;
        const std::string &s = v.as_string()->get();
        int i = config_lookup(names, s.data(), s.size());
        if (i >= 0)
            return i;
        int n = 0;
        while (names[n])
            n++;
        const char *sugg = config_suggest(s.c_str(), names, n);
        std::string msg = what ? format("%s must be one of %s, not \"%s\"", what, quoted_list(names, " or ").c_str(), s.c_str())
                               : format("'%s' must be one of %s, not \"%s\"", key.c_str(),
                                        quoted_list(names, " or ").c_str(), s.c_str());
        if (sugg)
            msg += format("; did you mean \"%s\"?", sugg);
        error(v.source(), msg);
        return -1;
    }

    bool get_int(const std::string &key, const toml::node &v, int64_t lo, int64_t hi, int64_t &out)
    {
        if (!want(key, v, toml::node_type::integer, "an integer"))
            return false;
        int64_t x = v.as_integer()->get();
        if (x >= lo && x <= hi) {
            out = x;
            return true;
        }
        /* Bounds that are only there to keep the value in an int read
         * better as one-sided. */
        if (hi >= INT32_MAX)
            error(v.source(), x < lo ? format("'%s' must be at least %lld, not %lld", key.c_str(), (long long)lo, (long long)x)
                                     : format("'%s' must be at most %lld, not %lld", key.c_str(), (long long)hi, (long long)x));
        else
            error(v.source(), format("'%s' must be between %lld and %lld, not %lld", key.c_str(), (long long)lo,
                                     (long long)hi, (long long)x));
        return false;
    }

    /* Floats accept integers too: `percentile = 100` means 100.0. */
    bool get_number(const std::string &key, const toml::node &v, double &out)
    {
        if (auto *i = v.as_integer()) {
            out = (double)i->get();
            return true;
        }
        if (auto *f = v.as_floating_point()) {
            out = f->get();
            return true;
        }
        error(v.source(), format("'%s' must be a number, not %s", key.c_str(), type_name(v.type())));
        return false;
    }

    bool get_bool(const std::string &key, const toml::node &v, bool &out)
    {
        if (!want(key, v, toml::node_type::boolean, "a boolean (true or false)"))
            return false;
        out = v.as_boolean()->get();
        return true;
    }

    /* An array of strings; with ALLOW_ONE a single string is accepted as a
     * one-element array.  Entries that are not strings are reported and
     * skipped; returns false if V is not an array at all. */
    bool get_strings(const std::string &key, const toml::node &v, bool allow_one,
                     std::vector<std::pair<std::string, const toml::node *>> &out)
    {
        if (allow_one && v.is_string()) {
            std::string s;
            if (get_string(key, v, s))
                out.emplace_back(s, &v);
            return true;
        }
        if (!v.is_array()) {
            error(v.source(), format("'%s' must be %s, not %s", key.c_str(),
                                     allow_one ? "a string or an array of strings" : "an array of strings",
                                     type_name(v.type())));
            return false;
        }
        for (const toml::node &e : *v.as_array()) {
            if (!e.is_string()) {
                error(e.source(), format("each entry of '%s' must be a string, not %s", key.c_str(), type_name(e.type())));
                continue;
            }
            std::string s = e.as_string()->get();
            if (s.empty()) {
                error(e.source(), format("entries of '%s' must not be empty", key.c_str()));
                continue;
            }
            out.emplace_back(s, &e);
        }
        return true;
    }
};

void set_str(char **field, const std::string &s)
{
    config_set_string(field, s.c_str());
}

/* ---------------------------------------------------------------- the schema */

void key_model_path(Loader &L, const std::string &k, const toml::node &v)
{
    std::string s;
    if (L.get_string(k, v, s))
        set_str(&L.cfg->model.path, L.resolve(s));
}

void key_model_name(Loader &L, const std::string &k, const toml::node &v)
{
    std::string s;
    if (!L.get_string(k, v, s))
        return;
    if (!config_is_identifier(s.c_str())) {
        L.error(v.source(), format("'%s' must be a C identifier (letters, digits and '_', not starting with a "
                                   "digit), not \"%s\"", k.c_str(), s.c_str()));
        return;
    }
    set_str(&L.cfg->model.name, s);
}

void key_model_layout(Loader &L, const std::string &k, const toml::node &v)
{
    int i = L.get_enum(k, v, config_layout_names);
    if (i >= 0)
        L.cfg->model.input_layout = (InputLayout)i;
}

void key_model_batch(Loader &L, const std::string &k, const toml::node &v)
{
    int64_t x;
    if (L.get_int(k, v, 1, MAX_BATCH, x))
        L.cfg->model.batch = x;
}

void key_target_triple(Loader &L, const std::string &k, const toml::node &v)
{
    int i = L.get_enum(k, v, config_triples);
    if (i >= 0)
        set_str(&L.cfg->target.triple, config_triples[i]);
}

void key_target_cpu(Loader &L, const std::string &k, const toml::node &v)
{
    std::string s;
    if (L.get_string(k, v, s))
        set_str(&L.cfg->target.cpu, s);
}

/* LLVM's feature syntax: a sign and a name ("+dotprod", "-neon", "+zvl128b"). */
bool feature_ok(const std::string &s)
{
    if (s.size() < 2 || (s[0] != '+' && s[0] != '-'))
        return false;
    for (size_t i = 1; i < s.size(); i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

void key_target_features(Loader &L, const std::string &k, const toml::node &v)
{
    std::vector<std::pair<std::string, const toml::node *>> list;
    if (!L.get_strings(k, v, false, list))
        return;
    std::vector<const char *> ok;
    for (auto &e : list) {
        if (!feature_ok(e.first)) {
            L.error(e.second->source(), format("each entry of '%s' must be '+' or '-' and a feature name, like "
                                               "\"+dotprod\", not \"%s\"", k.c_str(), e.first.c_str()));
            continue;
        }
        ok.push_back(e.first.c_str());
    }
    config_set_strings(&L.cfg->target.features, &L.cfg->target.num_features, ok.data(), (int)ok.size());
}

void key_quant_scheme(Loader &L, const std::string &k, const toml::node &v)
{
    int i = L.get_enum(k, v, config_scheme_names);
    if (i >= 0)
        L.cfg->quant.scheme = (QuantScheme)i;
}

void key_quant_per_channel(Loader &L, const std::string &k, const toml::node &v)
{
    bool b;
    if (L.get_bool(k, v, b))
        L.cfg->quant.per_channel = b;
}

void key_quant_activation(Loader &L, const std::string &k, const toml::node &v)
{
    int i = L.get_enum(k, v, activation_names);
    if (i >= 0) {
        L.cfg->quant.activation_dtype = activation_dtypes[i];
        L.activation_set = true;
        L.activation_loc = L.loc(v.source());
    }
}

void key_quant_rounding(Loader &L, const std::string &k, const toml::node &v)
{
    int i = L.get_enum(k, v, config_rounding_names);
    if (i >= 0)
        L.cfg->quant.rounding = (RoundingMode)i;
}

void key_quant_override(Loader &L, const std::string &k, const toml::node &v)
{
    static const char *const keys[] = {"node", "dtype"};
    if (!v.is_array_of_tables() || v.as_array()->empty()) {
        if (v.is_array()) {
            for (const toml::node &e : *v.as_array())
                if (!e.is_table())
                    L.error(e.source(), format("each entry of '%s' must be a table, not %s", k.c_str(), type_name(e.type())));
            if (!v.as_array()->empty())
                return;
        }
        L.error(v.source(), format("'%s' must be an array of tables ([[quantization.override]]), not %s",
                                   k.c_str(), v.is_array() ? "an empty array" : type_name(v.type())));
        return;
    }
    for (const toml::node &e : *v.as_array()) {
        const toml::table &t = *e.as_table();
        std::string node;
        int dt = -1;
        bool node_ok = false;
        for (auto &&[key, val] : t) {
            std::string name(key.str());
            if (name == "node") {
                node_ok = L.get_string(name, val, node);
            } else if (name == "dtype") {
                dt = L.get_enum(name, val, override_dtype_names);
            } else {
                const char *s = config_suggest(name.c_str(), keys, 2);
                L.error(key.source(), format("unknown key '%s' in [[quantization.override]]%s", name.c_str(),
                                             s ? format("; did you mean '%s'?", s).c_str() : ""));
            }
        }
        for (int i = 0; i < 2; i++)
            if (!t.contains(keys[i]))
                L.error(t.source(), format("[[quantization.override]] needs a '%s' key", keys[i]));
        if (!node_ok || dt < 0)
            continue;
        QnncConfig *c = L.cfg;
        for (int i = 0; i < c->quant.num_overrides; i++) {
            if (node == c->quant.overrides[i].node) {
                L.error(t["node"].node()->source(),
                        format("a second override for node \"%s\" (the first is at line %d)", node.c_str(),
                               c->quant.overrides[i].loc.line));
                node_ok = false;
            }
        }
        if (!node_ok)
            continue;
        c->quant.overrides = (QuantOverride *)xrealloc(c->quant.overrides,
                                                       (size_t)(c->quant.num_overrides + 1) * sizeof *c->quant.overrides);
        c->quant.overrides[c->quant.num_overrides++] = QuantOverride{xstrdup(node.c_str()), override_dtypes[dt], L.loc(t.source())};
    }
}

/* The calibration data format, from a file name: NumPy files and
 * directories of them, or IDX files as MNIST names them
 * ("train-images-idx3-ubyte", "t10k-images.idx3-ubyte", "digits.idx"). */
DataFormat format_of(const std::string &path)
{
    auto ends = [&](const char *suf) {
        size_t n = strlen(suf);
        return path.size() >= n && path.compare(path.size() - n, n, suf) == 0;
    };
    if (ends(".npy") || ends("/"))
        return DATA_NPY;
    if (ends("-ubyte") || ends(".idx") || path.find("idx1") != std::string::npos ||
        path.find("idx2") != std::string::npos || path.find("idx3") != std::string::npos ||
        path.find("idx4") != std::string::npos)
        return DATA_IDX;
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return DATA_NPY;
    return DATA_AUTO;
}

void key_calib_dataset(Loader &L, const std::string &k, const toml::node &v)
{
    std::vector<std::pair<std::string, const toml::node *>> list;
    if (!L.get_strings(k, v, true, list))
        return;
    if (v.is_array() && v.as_array()->empty()) {
        L.error(v.source(), format("'%s' must not be an empty array", k.c_str()));
        return;
    }
    std::vector<std::string> paths;
    for (auto &e : list)
        paths.push_back(L.resolve(e.first));
    std::vector<const char *> ptrs;
    for (auto &p : paths)
        ptrs.push_back(p.c_str());
    config_set_strings(&L.cfg->calib.dataset, &L.cfg->calib.num_dataset, ptrs.data(), (int)ptrs.size());
    L.dataset_loc = L.loc(v.source());
}

void key_calib_format(Loader &L, const std::string &k, const toml::node &v)
{
    int i = L.get_enum(k, v, format_words);
    if (i >= 0) {
        L.cfg->calib.format = i == 0 ? DATA_NPY : DATA_IDX;
        L.format_set = true;
    }
}

void key_calib_method(Loader &L, const std::string &k, const toml::node &v)
{
    int i = L.get_enum(k, v, config_method_names);
    if (i >= 0)
        L.cfg->calib.method = (CalibMethod)i;
}

void key_calib_percentile(Loader &L, const std::string &k, const toml::node &v)
{
    double d;
    if (!L.get_number(k, v, d))
        return;
    if (!(d > 0 && d <= 100)) {
        L.error(v.source(), format("'%s' must be in the range (0, 100], not %s", k.c_str(), number_text(d).c_str()));
        return;
    }
    L.cfg->calib.percentile = d;
}

void key_calib_bins(Loader &L, const std::string &k, const toml::node &v)
{
    int64_t x;
    if (L.get_int(k, v, MIN_BINS, MAX_BINS, x))
        L.cfg->calib.bins = (int)x;
}

void key_calib_samples(Loader &L, const std::string &k, const toml::node &v)
{
    int64_t x;
    if (L.get_int(k, v, 1, MAX_SAMPLES, x))
        L.cfg->calib.samples = (int)x;
}

void key_calib_scale(Loader &L, const std::string &k, const toml::node &v)
{
    double d;
    if (!L.get_number(k, v, d))
        return;
    if (!std::isfinite(d) || d == 0) {
        L.error(v.source(), format("'%s' must be a finite nonzero number, not %s", k.c_str(), number_text(d).c_str()));
        return;
    }
    L.cfg->calib.scale = d;
}

void key_calib_offset(Loader &L, const std::string &k, const toml::node &v)
{
    double d;
    if (!L.get_number(k, v, d))
        return;
    if (!std::isfinite(d)) {
        L.error(v.source(), format("'%s' must be a finite number, not %s", k.c_str(), number_text(d).c_str()));
        return;
    }
    L.cfg->calib.offset = d;
}

void key_output_object(Loader &L, const std::string &k, const toml::node &v)
{
    std::string s;
    if (L.get_string(k, v, s))
        set_str(&L.cfg->output.object, L.resolve(s));
}

void key_output_header(Loader &L, const std::string &k, const toml::node &v)
{
    std::string s;
    if (L.get_string(k, v, s))
        set_str(&L.cfg->output.header, L.resolve(s));
}

void key_output_emit(Loader &L, const std::string &k, const toml::node &v)
{
    std::vector<std::pair<std::string, const toml::node *>> list;
    if (!L.get_strings(k, v, false, list))
        return;
    unsigned emit = 0;
    bool ok = true;
    for (auto &e : list) {
        int i = L.get_enum(k, *e.second, config_emit_names, format("each entry of '%s'", k.c_str()).c_str());
        if (i < 0) {
            ok = false;
        } else if (emit & (1u << i)) {
            L.error(e.second->source(), format("'%s' lists \"%s\" twice", k.c_str(), e.first.c_str()));
            ok = false;
        } else {
            emit |= 1u << i;
        }
    }
    if (ok && emit == 0 && v.as_array()->empty()) {
        L.error(v.source(), format("'%s' must name at least one output kind", k.c_str()));
        return;
    }
    if (ok && emit)
        L.cfg->output.emit = emit;
}

void key_output_weights(Loader &L, const std::string &k, const toml::node &v)
{
    int i = L.get_enum(k, v, config_weights_names);
    if (i >= 0)
        L.cfg->output.weights = (WeightsMode)i;
}

void key_passes_disable(Loader &L, const std::string &k, const toml::node &v)
{
    std::vector<std::pair<std::string, const toml::node *>> list;
    if (!L.get_strings(k, v, false, list))
        return;
    std::vector<const char *> names;
    for (auto &e : list)
        names.push_back(e.first.c_str());
    QnncConfig *c = L.cfg;
    free(c->passes.disable_loc);
    config_set_strings(&c->passes.disable, &c->passes.num_disable, names.data(), (int)names.size());
    c->passes.disable_loc = (SrcLoc *)xcalloc(names.size() + 1, sizeof(SrcLoc));
    for (size_t i = 0; i < list.size(); i++)
        c->passes.disable_loc[i] = L.loc(list[i].second->source());
}

void tile(Loader &L, const std::string &k, const toml::node &v, int *out)
{
    int64_t x;
    if (L.get_int(k, v, 1, MAX_TILE, x))
        *out = (int)x;
}
void key_tile_m(Loader &L, const std::string &k, const toml::node &v) { tile(L, k, v, &L.cfg->passes.tile_m); }
void key_tile_n(Loader &L, const std::string &k, const toml::node &v) { tile(L, k, v, &L.cfg->passes.tile_n); }
void key_tile_k(Loader &L, const std::string &k, const toml::node &v) { tile(L, k, v, &L.cfg->passes.tile_k); }

const std::vector<SectionSpec> &schema()
{
    static const std::vector<SectionSpec> s = {
        {"model", {{"path", key_model_path}, {"name", key_model_name}, {"input_layout", key_model_layout},
                   {"batch", key_model_batch}}},
        {"target", {{"triple", key_target_triple}, {"cpu", key_target_cpu}, {"features", key_target_features}}},
        {"quantization", {{"scheme", key_quant_scheme}, {"per_channel", key_quant_per_channel},
                          {"activation_dtype", key_quant_activation}, {"rounding", key_quant_rounding},
                          {"override", key_quant_override}}},
        {"calibration", {{"dataset", key_calib_dataset}, {"format", key_calib_format}, {"method", key_calib_method},
                         {"percentile", key_calib_percentile}, {"bins", key_calib_bins},
                         {"samples", key_calib_samples}, {"scale", key_calib_scale}, {"offset", key_calib_offset}}},
        {"output", {{"object", key_output_object}, {"header", key_output_header}, {"emit", key_output_emit},
                    {"weights", key_output_weights}}},
        {"passes", {{"disable", key_passes_disable}, {"tile_m", key_tile_m}, {"tile_n", key_tile_n},
                    {"tile_k", key_tile_k}}},
    };
    return s;
}

/* The section other than SKIP that has a key named KEY, for "did you mean
 * 'batch' in [model]?" when a key sits in the wrong section. */
const SectionSpec *section_with_key(const std::string &key, const SectionSpec *skip)
{
    for (const SectionSpec &s : schema())
        if (&s != skip)
            for (const KeySpec &k : s.keys)
                if (key == k.name)
                    return &s;
    return nullptr;
}

void read_section(Loader &L, const SectionSpec &spec, const toml::table &t)
{
    L.section = spec.name;
    std::vector<const char *> names;
    for (const KeySpec &k : spec.keys)
        names.push_back(k.name);
    for (auto &&[key, val] : t) {
        std::string name(key.str());
        const KeySpec *ks = nullptr;
        for (const KeySpec &k : spec.keys)
            if (name == k.name)
                ks = &k;
        if (ks) {
            L.record(name, val);
            ks->fn(L, name, val);
            continue;
        }
        std::string msg = format("unknown key '%s' in [%s]", name.c_str(), spec.name);
        if (const char *s = config_suggest(name.c_str(), names.data(), (int)names.size()))
            msg += format("; did you mean '%s'?", s);
        else if (const SectionSpec *other = section_with_key(name, &spec))
            msg += format("; did you mean '%s' in [%s]?", name.c_str(), other->name);
        L.error(key.source(), msg);
    }
}

void read_root(Loader &L, const toml::table &root)
{
    std::vector<const char *> names;
    for (const SectionSpec &s : schema())
        names.push_back(s.name);
    for (auto &&[key, val] : root) {
        std::string name(key.str());
        const SectionSpec *spec = nullptr;
        for (const SectionSpec &s : schema())
            if (name == s.name)
                spec = &s;
        if (spec) {
            if (val.is_table())
                read_section(L, *spec, *val.as_table());
            else
                L.error(val.source(), format("'%s' must be a table ([%s]), not %s", name.c_str(), name.c_str(),
                                             type_name(val.type())));
            continue;
        }
        const char *s = config_suggest(name.c_str(), names.data(), (int)names.size());
        if (val.is_table()) {
            L.error(key.source(), format("unknown section [%s]%s", name.c_str(),
                                         s ? format("; did you mean [%s]?", s).c_str() : ""));
        } else if (const SectionSpec *other = section_with_key(name, nullptr)) {
            L.error(key.source(), format("unknown key '%s' at the top level; did you mean '%s' in [%s]?",
                                         name.c_str(), name.c_str(), other->name));
        } else {
            L.error(key.source(), format("unknown key '%s' at the top level; every key belongs in a section, "
                                         "such as [model]", name.c_str()));
        }
    }
}

/* Rules between keys, checked once everything is read. */
void check_consistency(Loader &L)
{
    QnncConfig *c = L.cfg;
    DType act = c->quant.activation_dtype;
    if (c->quant.scheme == QSCHEME_HYBRID || c->quant.scheme == QSCHEME_NONE) {
        if (L.activation_set)
            L.errors.push_back(Error{L.activation_loc,
                                     format("'activation_dtype' has no effect with scheme \"%s\", whose activations "
                                            "stay f32; remove it", config_scheme_names[c->quant.scheme])});
        c->quant.activation_dtype = DT_F32;
    } else if (c->quant.scheme == QSCHEME_INT16X8) {
        if (L.activation_set && act != DT_I16)
            L.errors.push_back(Error{L.activation_loc,
                                     format("'activation_dtype' \"%s\" does not fit scheme \"int16x8\", whose "
                                            "activations are i16", dtype_traits[act].name)});
        c->quant.activation_dtype = DT_I16;
    } else if (act == DT_I16) {
        L.errors.push_back(Error{L.activation_loc, "'activation_dtype' \"i16\" needs scheme \"int16x8\""});
    }

    if (c->calib.num_dataset && !L.format_set) {
        DataFormat f = DATA_AUTO;
        for (int i = 0; i < c->calib.num_dataset; i++) {
            DataFormat fi = format_of(c->calib.dataset[i]);
            if (fi == DATA_AUTO) {
                L.errors.push_back(Error{L.dataset_loc,
                                         format("cannot tell the format of \"%s\" from its name (.npy files, "
                                                "directories of them, or IDX files like "
                                                "train-images-idx3-ubyte); set 'format'", c->calib.dataset[i])});
                return;
            }
            if (f != DATA_AUTO && fi != f) {
                L.errors.push_back(Error{L.dataset_loc, "'dataset' mixes .npy and IDX files; use one format"});
                return;
            }
            f = fi;
        }
        c->calib.format = f;
    }
}

} // namespace

/* ---------------------------------------------------------------- config_load */

extern "C" bool config_load(const char *path, QnncConfig *cfg) noexcept
{
    /* Loading over an earlier file: the diag engine must not keep its text. */
    if (cfg->path && cfg->source)
        diag_add_source(cfg->path, "", 0);
    config_set_string(&cfg->path, path);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        diag_error((SrcLoc{cfg->path, 0, 0}), "cannot read file: %s", strerror(errno));
        return false;
    }
    free(cfg->source);
    cfg->source = text;
    diag_add_source(cfg->path, text, len);

    toml::parse_result r = toml::parse(std::string_view(text, len), std::string_view(path));
    if (!r) {
        /* toml++ stops at the first syntax error; its descriptions read
         * "Error while parsing table header: expected ']'...", which after
         * diag's own "error:" says "error" twice. */
        const toml::parse_error &e = r.error();
        std::string desc(e.description());
        const std::string prefix = "Error while parsing ";
        if (desc.compare(0, prefix.size(), prefix) == 0)
            desc = "TOML syntax error in " + desc.substr(prefix.size());
        else
            desc = "TOML syntax error: " + desc;
        diag_error((SrcLoc{cfg->path, (int)e.source().begin.line, (int)e.source().begin.column}), "%s",
                   desc.c_str());
        return false;
    }

    Loader L;
    L.cfg = cfg;
    const char *slash = strrchr(path, '/');
    if (slash)
        L.dir.assign(path, (size_t)(slash - path + 1));
    read_root(L, r.table());
    check_consistency(L);

    std::stable_sort(L.errors.begin(), L.errors.end(), [](const Error &a, const Error &b) {
        return a.loc.line != b.loc.line ? a.loc.line < b.loc.line : a.loc.col < b.loc.col;
    });
    for (const Error &e : L.errors)
        diag_error(e.loc, "%s", e.message.c_str());
    return L.errors.empty();
}

/* ---------------------------------------------------------------- config_print */

static void print_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* The shortest decimal that reads back as the same double, always with a
 * '.' or an exponent so that TOML reads it as a float.  Numbers with up to
 * 17 integer digits are written without an exponent (100.0, not 1e+02). */
static void print_float(FILE *f, double d)
{
    char buf[64];
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, nullptr) == d)
            break;
    }
    int int_digits = std::fabs(d) >= 1 ? (int)std::floor(std::log10(std::fabs(d))) + 1 : 0;
    if (int_digits > prec && int_digits <= 17)
        prec = int_digits;
    snprintf(buf, sizeof buf, "%.*g", prec, d);
    if (!strpbrk(buf, ".e"))
        strcat(buf, ".0");
    fputs(buf, f);
}

static void print_key_string(FILE *f, const char *key, const char *v, const char *unset)
{
    if (v) {
        fprintf(f, "%s = ", key);
        print_string(f, v);
        fputc('\n', f);
    } else {
        fprintf(f, "# %s = (%s)\n", key, unset);
    }
}

static void print_strings(FILE *f, const char *key, char *const *v, int n)
{
    fprintf(f, "%s = [", key);
    for (int i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        print_string(f, v[i]);
    }
    fputs("]\n", f);
}

static void print_tile(FILE *f, const char *key, int v)
{
    if (v)
        fprintf(f, "%s = %d\n", key, v);
    else
        fprintf(f, "# %s = (the target's default)\n", key);
}

extern "C" void config_print(FILE *f, const QnncConfig *c) noexcept
{
    fputs("[model]\n", f);
    print_key_string(f, "path", c->model.path, "given on the command line");
    print_key_string(f, "name", c->model.name, "derived from the model's file name");
    fprintf(f, "input_layout = \"%s\"\n", config_layout_names[c->model.input_layout]);
    fprintf(f, "batch = %lld\n", (long long)c->model.batch);

    fputs("\n[target]\n", f);
    const char *host = config_host_triple();
    std::string host_note = std::string("the host, ") + (host ? host : "which is not a supported target");
    print_key_string(f, "triple", c->target.triple, host_note.c_str());
    print_key_string(f, "cpu", c->target.cpu, "the triple's generic CPU");
    print_strings(f, "features", c->target.features, c->target.num_features);

    fputs("\n[quantization]\n", f);
    fprintf(f, "scheme = \"%s\"\n", config_scheme_names[c->quant.scheme]);
    fprintf(f, "per_channel = %s\n", c->quant.per_channel ? "true" : "false");
    if (c->quant.activation_dtype == DT_F32)
        fputs("# activation_dtype = (f32 with this scheme)\n", f);
    else
        fprintf(f, "activation_dtype = \"%s\"\n", dtype_traits[c->quant.activation_dtype].name);
    fprintf(f, "rounding = \"%s\"\n", config_rounding_names[c->quant.rounding]);
    for (int i = 0; i < c->quant.num_overrides; i++) {
        fputs("\n[[quantization.override]]\nnode = ", f);
        print_string(f, c->quant.overrides[i].node);
        fprintf(f, "\ndtype = \"%s\"\n", dtype_traits[c->quant.overrides[i].dtype].name);
    }

    fputs("\n[calibration]\n", f);
    if (c->calib.num_dataset)
        print_strings(f, "dataset", c->calib.dataset, c->calib.num_dataset);
    else
        fputs("# dataset = (none)\n", f);
    if (c->calib.format == DATA_AUTO)
        fputs("# format = (inferred from the dataset's file names)\n", f);
    else
        fprintf(f, "format = \"%s\"\n", config_format_names[c->calib.format]);
    fprintf(f, "method = \"%s\"\n", config_method_names[c->calib.method]);
    fputs("percentile = ", f);
    print_float(f, c->calib.percentile);
    fprintf(f, "\nbins = %d\nsamples = %d\nscale = ", c->calib.bins, c->calib.samples);
    print_float(f, c->calib.scale);
    fputs("\noffset = ", f);
    print_float(f, c->calib.offset);
    fputc('\n', f);

    fputs("\n[output]\n", f);
    print_key_string(f, "object", c->output.object, "NAME.o");
    print_key_string(f, "header", c->output.header, "NAME.h");
    fputs("emit = [", f);
    for (int i = 0, n = 0; i < EMIT_KIND_COUNT; i++)
        if (c->output.emit & (1u << i))
            fprintf(f, "%s\"%s\"", n++ ? ", " : "", config_emit_names[i]);
    fputs("]\n", f);
    fprintf(f, "weights = \"%s\"\n", config_weights_names[c->output.weights]);

    fputs("\n[passes]\n", f);
    print_strings(f, "disable", c->passes.disable, c->passes.num_disable);
    print_tile(f, "tile_m", c->passes.tile_m);
    print_tile(f, "tile_n", c->passes.tile_n);
    print_tile(f, "tile_k", c->passes.tile_k);
}
