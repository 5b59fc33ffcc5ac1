// gguf-meter oracle: load a GGUF with llama.cpp (CPU only), create a context
// with the given settings and print, as JSON on stdout, every buffer
// llama.cpp reports (model, KV cache K/V, recurrent R/S, compute, output).
//
// By default the model is loaded with llama_model_params.no_alloc = true
// ("only load metadata and simulate memory allocations"), exactly like
// llama.cpp's own --fit logic (common/fit.cpp): no tensor data is read, so a
// sparse file whose data region was never written works.  --load mmap does
// a real load instead (real KV/compute buffers are malloc'ed and cleared).
//
// Exact byte counts come from llama.cpp objects, not from log lines:
//   - llama_get_memory_breakdown()  (src/llama-ext.h; model/context/compute per buffer type)
//   - per-layer K/V/R/S tensors of the memory module (ggml_nbytes), reached
//     through llama.cpp's internal headers (statically linked, same build)
//   - the output buffer (llama_context::buf_output)
// The INFO log lines about buffers are also captured verbatim as a cross-check.
//
// usage: oracle MODEL.gguf [--n-ctx N] [--n-seq-max N] [--n-batch N] [--n-ubatch N]
//        [--type-k T] [--type-v T] [--fa on|off|auto] [--swa-full 0|1]
//        [--kv-unified 0|1] [--n-rs-seq N] [--load noalloc|mmap] [--load-mtp 0|1] [--threads N]
//        [--verbose]
//        RPC build only (build.sh --rpc): [--rpc HOST:PORT,...] [--ngl N] [--ts A,B,...]
//        [--ot PATTERN=BUFT]... [--n-cpu-moe N] [--sm layer|row|none] [--main-gpu N]
//        [--no-kv-offload]
//        GPU build only (build.sh --cuda / --metal): --gpus takes the machine's GPUs instead of
//        RPC servers, with the same placement flags.
//
// With --rpc each rpc-server endpoint becomes a device of type GPU (ggml-rpc), so the
// model is loaded across several devices exactly as with CUDA (load_tensors' layer split,
// the scheduler's split of the graph, pipeline parallelism): the JSON then also has
// `devices` (per device: layers, buffer type, memory it reported), and the breakdown and
// compute buffers carry one row per device and one for the host.

// Standard headers first, so that the access hack below only affects llama.cpp's own classes.
#include <algorithm>
#include <array>
#include <atomic>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <list>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>
#include <sys/stat.h>

#include "ggml.h"
#include "ggml-backend.h"
#include "ggml-cpp.h"
#include "llama.h"
#ifdef ORACLE_RPC
#include "ggml-rpc.h"
#endif

// The numbers we want (per-layer K/V tensors, output buffer) live in private
// members of llama.cpp classes.  The oracle is linked statically against the
// very same build, so reading them is safe.
#define private public
#define protected public
#include "llama-ext.h"
#include "llama-context.h"
#include "llama-model.h"
#include "llama-kv-cache.h"
#include "llama-kv-cache-iswa.h"
#include "llama-memory-hybrid.h"
#include "llama-memory-hybrid-iswa.h"
#include "llama-memory-recurrent.h"
#include "llama-kv-cache-dsa.h"
#include "llama-kv-cache-dsa-iswa.h"
#include "llama-kv-cache-msa.h"
#include "llama-memory-hybrid-idx.h"
#include "llama-kv-cache-dsv4.h"
#undef private
#undef protected


static const int ORACLE_SCHEMA_VERSION = 1;

// ---------------------------------------------------------------- JSON helpers

#include "oracle_common.h"

static std::string jne(const ggml_tensor * t) {
    std::vector<std::string> v;
    for (int i = 0; i < GGML_MAX_DIMS; ++i) v.push_back(jint(t->ne[i]));
    return jarr(v);
}

// ---------------------------------------------------------------- log capture

struct log_state {
    std::string pending;
    std::vector<std::string> lines;   // all INFO/WARN/ERROR lines
    bool verbose = false;
} g_log;

static void log_cb(ggml_log_level level, const char * text, void * /*ud*/) {
    if (g_log.verbose) fputs(text, stderr);
    if (level == GGML_LOG_LEVEL_DEBUG) return;
    g_log.pending += text;
    size_t pos;
    while ((pos = g_log.pending.find('\n')) != std::string::npos) {
        std::string line = g_log.pending.substr(0, pos);
        g_log.pending.erase(0, pos + 1);
        if (!line.empty()) g_log.lines.push_back(line);
    }
}

// keep only the lines that talk about allocations / the resolved settings
static bool log_line_relevant(const std::string & l) {
    if (l.find(" took ") != std::string::npos) return false;   // timings: not deterministic
    static const char * pats[] = {
        "buffer size", "llama_kv_cache", "llama_memory_recurrent", "llama_context:",
        "llama_kv_cache_iswa", "llama_memory_hybrid", "graph_reserve", "sched_reserve",
        "n_ctx", "error", "failed", "n_swa", "n_seq_max", "n_batch", "n_ubatch", "flash_attn",
        "file size", "file type", "model params", "model type", "arch",
    };
    for (const char * p : pats) if (l.find(p) != std::string::npos) return true;
    return false;
}

// ---------------------------------------------------------------- helpers

static ggml_type parse_type(const std::string & s) {
    for (int t = 0; t < GGML_TYPE_COUNT; ++t) {
        const char * n = ggml_type_name((ggml_type) t);
        if (n && s == n) return (ggml_type) t;
    }
    throw std::runtime_error("unknown ggml type: " + s);
}

static std::string meta_str(const llama_model * m, const char * key) {
    char buf[512];
    int n = llama_model_meta_val_str(m, key, buf, sizeof(buf));
    return n < 0 ? std::string() : std::string(buf);
}

static std::map<std::string, uint64_t> read_proc_io() {
    std::map<std::string, uint64_t> r;
    std::ifstream f("/proc/self/io");
    std::string k; uint64_t v;
    while (f >> k >> v) { if (!k.empty() && k.back() == ':') k.pop_back(); r[k] = v; }
    return r;
}
static uint64_t read_vm_hwm_kib() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return strtoull(line.c_str() + 6, nullptr, 10);
    }
    return 0;
}

static const char * swa_type_name(llama_swa_type t) {
    switch (t) {
        case LLAMA_SWA_TYPE_NONE:      return "none";
        case LLAMA_SWA_TYPE_STANDARD:  return "standard";
        case LLAMA_SWA_TYPE_CHUNKED:   return "chunked";
        case LLAMA_SWA_TYPE_SYMMETRIC: return "symmetric";
        default:                       return "other";
    }
}

static std::string kv_json(const llama_kv_cache * kv, const char * role) {
    uint64_t k_total = 0, v_total = 0;
    std::vector<std::string> layers;
    std::string type_k, type_v;
    for (const auto & L : kv->layers) {
        const uint64_t kb = L.k ? ggml_nbytes(L.k) : 0;
        const uint64_t vb = L.v ? ggml_nbytes(L.v) : 0;
        k_total += kb; v_total += vb;
        if (L.k && type_k.empty()) type_k = ggml_type_name(L.k->type);
        if (L.v && type_v.empty()) type_v = ggml_type_name(L.v->type);
        jobj lj;
        lj.add("il", jint(L.il))
          .add("k_bytes", jnum(kb))
          .add("v_bytes", jnum(vb))
          .add("k_type", L.k ? jstr(ggml_type_name(L.k->type)) : "null")
          .add("v_type", L.v ? jstr(ggml_type_name(L.v->type)) : "null")
          .add("k_ne", L.k ? jne(L.k) : "null")
          .add("v_ne", L.v ? jne(L.v) : "null");
        layers.push_back(lj.str());
    }
    uint64_t buf_bytes = 0;
    for (const auto & [buft, sz] : kv->memory_breakdown()) buf_bytes += sz;
    jobj o;
    o.add("role", jstr(role))
     .add("cells", jnum(kv->get_size()))
     .add("n_stream", jnum(kv->get_n_stream()))
     .add("n_seq_max", jnum(kv->n_seq_max))
     .add("n_pad", jnum(kv->n_pad))
     .add("n_swa", jnum(kv->n_swa))
     .add("swa_type", jstr(swa_type_name(kv->swa_type)))
     .add("v_trans", jbool(kv->v_trans))
     .add("n_layers", jnum(kv->layers.size()))
     .add("type_k", type_k.empty() ? "null" : jstr(type_k))
     .add("type_v", type_v.empty() ? "null" : jstr(type_v))
     .add("k_bytes", jnum(k_total))
     .add("v_bytes", jnum(v_total))
     .add("buffer_bytes", jnum(buf_bytes))
     .add("layers", jarr(layers));
    return o.str();
}

static std::string rs_json(const llama_memory_recurrent * rs) {
    uint64_t r_total = 0, s_total = 0, p_total = 0;
    std::vector<std::string> layers;
    std::string type_r, type_s;
    for (size_t il = 0; il < rs->r_l.size(); ++il) {
        const ggml_tensor * r = rs->r_l[il];
        const ggml_tensor * s = il < rs->s_l.size() ? rs->s_l[il] : nullptr;
        const ggml_tensor * p = il < rs->p_l.size() ? rs->p_l[il] : nullptr;
        if (!r && !s && !p) continue;
        const uint64_t rb = r ? ggml_nbytes(r) : 0, sb = s ? ggml_nbytes(s) : 0, pb = p ? ggml_nbytes(p) : 0;
        r_total += rb; s_total += sb; p_total += pb;
        if (r && type_r.empty()) type_r = ggml_type_name(r->type);
        if (s && type_s.empty()) type_s = ggml_type_name(s->type);
        jobj lj;
        lj.add("il", jint((int64_t) il))
          .add("r_bytes", jnum(rb)).add("s_bytes", jnum(sb)).add("p_bytes", jnum(pb))
          .add("r_ne", r ? jne(r) : "null").add("s_ne", s ? jne(s) : "null");
        layers.push_back(lj.str());
    }
    uint64_t buf_bytes = 0;
    for (const auto & [buft, sz] : rs->memory_breakdown()) buf_bytes += sz;
    jobj o;
    o.add("cells", jnum(rs->size))
     .add("n_seq_max", jnum(rs->n_seq_max))
     .add("n_rs_seq", jnum(rs->n_rs_seq))
     .add("n_layers", jnum(layers.size()))
     .add("type_r", type_r.empty() ? "null" : jstr(type_r))
     .add("type_s", type_s.empty() ? "null" : jstr(type_s))
     .add("r_bytes", jnum(r_total))
     .add("s_bytes", jnum(s_total))
     .add("p_bytes", jnum(p_total))
     .add("buffer_bytes", jnum(buf_bytes))
     .add("layers", jarr(layers));
    return o.str();
}

// DeepSeek-V4's compressor states (llama_dsv4_comp_state: CSA, HCA, lightning indexer): fixed
// f32 state per sequence, so recorded in the recurrent-state schema (all of it as S).
static std::string dsv4_state_json(const llama_kv_cache_dsv4 * c) {
    uint64_t s_total = 0, buf_bytes = 0;
    uint32_t n_stream = 0, n_rs_seq = 0;
    std::vector<std::string> layers;
    const std::pair<const char *, const llama_dsv4_comp_state *> states[] = {
        {"csa", c->csa_state.get()}, {"hca", c->hca_state.get()}, {"lid", c->lid_state.get()}};
    for (const auto & [name, st] : states) {
        if (!st) continue;
        n_stream = st->n_stream; n_rs_seq = st->n_rs_seq;
        for (const auto & L : st->layers) {
            const uint64_t sb = ggml_nbytes(L.kv) + ggml_nbytes(L.score);
            s_total += sb;
            jobj lj;
            lj.add("il", jint(L.il)).add("state", jstr(name)).add("r_bytes", jnum(0)).add("s_bytes", jnum(sb)).add("p_bytes", jnum(0))
              .add("r_ne", "null").add("s_ne", jne(L.kv));
            layers.push_back(lj.str());
        }
        for (const auto & [buft, sz] : st->memory_breakdown()) buf_bytes += sz;
    }
    jobj o;
    o.add("kind", jstr("dsv4_compressor"))
     .add("cells", jnum(n_stream))
     .add("n_seq_max", jnum(c->n_seq_max))
     .add("n_rs_seq", jnum(n_rs_seq))
     .add("n_layers", jnum(layers.size()))
     .add("type_r", "null")
     .add("type_s", jstr("f32"))
     .add("r_bytes", jnum(0))
     .add("s_bytes", jnum(s_total))
     .add("p_bytes", jnum(0))
     .add("buffer_bytes", jnum(buf_bytes))
     .add("layers", jarr(layers));
    return o.str();
}

// ---------------------------------------------------------------- main

static void usage() {
    fprintf(stderr,
        "usage: oracle MODEL.gguf [--n-ctx N] [--n-seq-max N] [--n-batch N] [--n-ubatch N]\n"
        "       [--type-k T] [--type-v T] [--fa on|off|auto] [--swa-full 0|1] [--kv-unified 0|1]\n"
        "       [--n-rs-seq N] [--load noalloc|mmap] [--load-mtp 0|1] [--threads N] [--verbose]\n");
}

int main(int argc, char ** argv) {
    if (argc < 2) { usage(); return 2; }
    std::string path = argv[1];
    uint32_t n_ctx = 4096, n_seq_max = 1, n_batch = 2048, n_ubatch = 512, n_rs_seq = 0;
    std::string type_k_s = "f16", type_v_s = "f16", fa = "auto", load = "noalloc";
    bool swa_full = false, kv_unified = false, load_mtp = false;
    int threads = 2;
    // several devices (RPC build)
    std::string rpc, ts_s, sm = "layer";
    int ngl = 0, n_cpu_moe = 0, main_gpu = 0;
    bool ngl_set = false, no_kv_offload = false, use_gpus = false;
    std::vector<std::string> ot_specs;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) { usage(); exit(2); }
            return argv[++i];
        };
        if      (a == "--n-ctx")      n_ctx      = std::stoul(next());
        else if (a == "--n-seq-max" || a == "--parallel") n_seq_max = std::stoul(next());
        else if (a == "--n-batch")    n_batch    = std::stoul(next());
        else if (a == "--n-ubatch")   n_ubatch   = std::stoul(next());
        else if (a == "--n-rs-seq")   n_rs_seq   = std::stoul(next());
        else if (a == "--type-k")     type_k_s   = next();
        else if (a == "--type-v")     type_v_s   = next();
        else if (a == "--fa")         fa         = next();
        else if (a == "--swa-full")   swa_full   = std::stoi(next()) != 0;
        else if (a == "--kv-unified") kv_unified = std::stoi(next()) != 0;
        else if (a == "--load")       load       = next();
        else if (a == "--load-mtp")   load_mtp   = std::stoi(next()) != 0;
        else if (a == "--threads")    threads    = std::stoi(next());
        else if (a == "--verbose")    g_log.verbose = true;
        else if (a == "--rpc")        rpc        = next();
        else if (a == "--gpus")       use_gpus   = true;
        else if (a == "--ngl")        { ngl = std::stoi(next()); ngl_set = true; }
        else if (a == "--ts")         ts_s       = next();
        else if (a == "--ot")         ot_specs.push_back(next());
        else if (a == "--n-cpu-moe")  n_cpu_moe  = std::stoi(next());
        else if (a == "--sm")         sm         = next();
        else if (a == "--main-gpu")   main_gpu   = std::stoi(next());
        else if (a == "--no-kv-offload") no_kv_offload = true;
        else { usage(); return 2; }
    }

    llama_log_set(log_cb, nullptr);
    llama_backend_init();

    jobj out;
    out.add("schema_version", jint(ORACLE_SCHEMA_VERSION));
    {
        jobj lc = llama_cpp_build();
        lc.add("system_info", jstr(llama_print_system_info()));
        out.add("llama_cpp", lc.str());
    }

    jobj settings;
    settings.add("n_ctx", jnum(n_ctx)).add("n_seq_max", jnum(n_seq_max))
            .add("n_batch", jnum(n_batch)).add("n_ubatch", jnum(n_ubatch))
            .add("type_k", jstr(type_k_s)).add("type_v", jstr(type_v_s))
            .add("flash_attn", jstr(fa)).add("swa_full", jbool(swa_full))
            .add("kv_unified", jbool(kv_unified)).add("n_rs_seq", jnum(n_rs_seq))
            .add("load", jstr(load)).add("load_mtp", jbool(load_mtp)).add("n_threads", jint(threads));
    if (!rpc.empty() || use_gpus) {
        std::vector<std::string> ots;
        for (const auto & o : ot_specs) ots.push_back(jstr(o));
        settings.add("rpc", jstr(rpc)).add("n_gpu_layers", jint(ngl_set ? ngl : -1))
                .add("tensor_split", jstr(ts_s)).add("override_tensor", jarr(ots))
                .add("n_cpu_moe", jint(n_cpu_moe)).add("split_mode", jstr(sm))
                .add("main_gpu", jint(main_gpu)).add("no_kv_offload", jbool(no_kv_offload));
    }
    out.add("settings", settings.str());

    struct stat st {};
    uint64_t file_size = 0, file_alloc = 0;
    if (stat(path.c_str(), &st) == 0) { file_size = st.st_size; file_alloc = (uint64_t) st.st_blocks * 512; }

    auto fail = [&](const std::string & stage, const std::string & msg) {
        std::vector<std::string> lines;
        for (const auto & l : g_log.lines) if (log_line_relevant(l)) lines.push_back(jstr(l));
        out.add("ok", "false").add("error_stage", jstr(stage)).add("error", jstr(msg)).add("log", jarr(lines));
        printf("%s\n", out.str().c_str());
        return 1;
    };

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.devices      = nullptr;
    mp.load_mtp     = load_mtp;   // llama.cpp default: false (MTP/NextN blocks are skipped)
    if (load == "noalloc") {
        mp.no_alloc  = true;
        mp.load_mode = LLAMA_LOAD_MODE_NONE;  // no_alloc cannot be combined with mmap (llama-model.cpp asserts)
    } else if (load == "mmap") {
        mp.no_alloc  = false;
        mp.load_mode = LLAMA_LOAD_MODE_MMAP;
    } else {
        usage(); return 2;
    }

    ggml_type type_k, type_v;
    try { type_k = parse_type(type_k_s); type_v = parse_type(type_v_s); }
    catch (const std::exception & e) { return fail("args", e.what()); }

    // ---- several devices through RPC: each endpoint registers its devices (type GPU);
    // llama_model_load_from_file then takes them all (llama.cpp puts RPC devices first).
    std::vector<float> tensor_split(llama_max_devices(), 0.0f);
    std::list<std::string> ot_patterns;   // the override patterns must outlive the load
    std::vector<llama_model_tensor_buft_override> overrides;
    if (!rpc.empty() || use_gpus) {
#if defined(ORACLE_RPC) || defined(ORACLE_GPU)
        std::stringstream ss(rpc);
        std::string ep;
#ifdef ORACLE_RPC
        while (std::getline(ss, ep, ',')) {
            ggml_backend_reg_t reg = ggml_backend_rpc_add_server(ep.c_str());
            if (!reg) return fail("args", "cannot add RPC server " + ep);
            ggml_backend_register(reg);   // as common/arg.cpp add_rpc_devices does
        }
#endif
        mp.n_gpu_layers = ngl_set ? ngl : -1;
        mp.main_gpu = main_gpu;
        mp.split_mode = sm == "row" ? LLAMA_SPLIT_MODE_ROW : sm == "none" ? LLAMA_SPLIT_MODE_NONE : LLAMA_SPLIT_MODE_LAYER;
        if (!ts_s.empty()) {
            std::stringstream ts(ts_s);
            std::string x;
            size_t k = 0;
            while (std::getline(ts, x, ',') && k < tensor_split.size()) tensor_split[k++] = std::stof(x);
            mp.tensor_split = tensor_split.data();
        }
        auto buft_by_name = [](const std::string & name) -> ggml_backend_buffer_type_t {
            for (size_t d = 0; d < ggml_backend_dev_count(); ++d) {
                ggml_backend_dev_t dev = ggml_backend_dev_get(d);
                ggml_backend_buffer_type_t b = ggml_backend_dev_buffer_type(dev);
                if (name == ggml_backend_buft_name(b) || name == ggml_backend_dev_name(dev)) return b;
            }
            return nullptr;
        };
        for (const auto & spec : ot_specs) {
            const size_t eq = spec.rfind('=');
            if (eq == std::string::npos) return fail("args", "--ot wants PATTERN=BUFT: " + spec);
            ggml_backend_buffer_type_t b = buft_by_name(spec.substr(eq + 1));
            if (!b) return fail("args", "unknown buffer type in --ot " + spec);
            ot_patterns.push_back(spec.substr(0, eq));
            overrides.push_back({ot_patterns.back().c_str(), b});
        }
        // common/arg.cpp --n-cpu-moe: llm_ffn_exps_block_regex for blocks 0..N-1 after the user's
        for (int b = 0; b < n_cpu_moe; ++b) {
            ot_patterns.push_back("blk\\." + std::to_string(b) + "\\.ffn_(up|down|gate|gate_up)_(ch|)exps");
            overrides.push_back({ot_patterns.back().c_str(), ggml_backend_cpu_buffer_type()});
        }
        if (!overrides.empty()) {
            overrides.push_back({nullptr, nullptr});
            mp.tensor_buft_overrides = overrides.data();
        }
#else
        return fail("args", "--rpc needs the RPC build (build.sh --rpc), --gpus a GPU build (build.sh --cuda / --metal)");
#endif
    }

    const auto io0 = read_proc_io();
    llama_model * model = llama_model_load_from_file(path.c_str(), mp);
    if (!model) return fail("load_model", "llama_model_load_from_file returned NULL");
    const auto io1 = read_proc_io();
    const size_t n_log_model = g_log.lines.size();

    {
        char desc[256]; llama_model_desc(model, desc, sizeof(desc));
        const llama_hparams & hp = model->hparams;
        std::vector<std::string> swa_layers;
        for (uint32_t il = 0; il < hp.n_layer(); ++il) swa_layers.push_back(jbool(hp.is_swa(il)));
        std::vector<std::string> recr_layers;
        for (uint32_t il = 0; il < hp.n_layer(); ++il) recr_layers.push_back(jbool(hp.is_recr(il)));
        jobj m;
        m.add("path", jstr(path))
         .add("file_size", jnum(file_size))
         .add("file_allocated_bytes", jnum(file_alloc))
         .add("arch", jstr(meta_str(model, "general.architecture")))
         .add("name", jstr(meta_str(model, "general.name")))
         .add("desc", jstr(desc))
         .add("n_params", jnum(llama_model_n_params(model)))
         .add("size_bytes", jnum(llama_model_size(model)))
         .add("n_layer", jint(llama_model_n_layer(model)))
         .add("n_layer_nextn", jint(llama_model_n_layer_nextn(model)))
         .add("n_embd", jint(llama_model_n_embd(model)))
         .add("n_head", jint(llama_model_n_head(model)))
         .add("n_head_kv", jint(llama_model_n_head_kv(model)))
         .add("n_swa", jint(llama_model_n_swa(model)))
         .add("n_ctx_train", jint(llama_model_n_ctx_train(model)))
         .add("n_vocab", jint(llama_vocab_n_tokens(llama_model_get_vocab(model))))
         .add("is_recurrent", jbool(llama_model_is_recurrent(model)))
         .add("is_hybrid", jbool(llama_model_is_hybrid(model)))
         .add("swa_layers", jarr(swa_layers))
         .add("recurrent_layers", jarr(recr_layers))
         .add("bytes_read_during_load", jnum(io1.count("rchar") && io0.count("rchar") ? io1.at("rchar") - io0.at("rchar") : 0));
        out.add("model", m.str());
    }

    if (!rpc.empty() || use_gpus) {
        // per device: the layers load_tensors gave it (dev_layer), the output layer, the
        // memory it reported (the default split follows the free memory)
        std::vector<std::string> devs;
        for (size_t d = 0; d < model->devices.size(); ++d) {
            ggml_backend_dev_t dev = model->devices[d].dev;
            size_t free = 0, total = 0;
            ggml_backend_dev_memory(dev, &free, &total);
            std::vector<std::string> layers;
            for (int il = 0; il < (int) model->hparams.n_layer_all; ++il) {
                if (model->dev_layer(il) == dev) layers.push_back(jint(il));
            }
            jobj o;
            o.add("name", jstr(ggml_backend_dev_name(dev)))
             .add("description", jstr(ggml_backend_dev_description(dev)))
             .add("buft", jstr(ggml_backend_buft_name(ggml_backend_dev_buffer_type(dev))))
             .add("free", jnum(free)).add("total", jnum(total))
             .add("layers", jarr(layers))
             .add("output_layer", jbool(model->dev_output() == dev));
            devs.push_back(o.str());
        }
        out.add("devices", jarr(devs));
    }

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx      = n_ctx;
    cp.n_batch    = n_batch;
    cp.n_ubatch   = n_ubatch;
    cp.n_seq_max  = n_seq_max;
    cp.n_rs_seq   = n_rs_seq;
    cp.type_k     = type_k;
    cp.type_v     = type_v;
    cp.swa_full   = swa_full;
    cp.kv_unified = kv_unified;
    cp.n_threads  = threads;
    cp.n_threads_batch = threads;
    cp.no_perf    = true;
    cp.offload_kqv = !no_kv_offload;
    cp.flash_attn_type = fa == "on" ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                       : fa == "off" ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                       : LLAMA_FLASH_ATTN_TYPE_AUTO;

    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        std::string err = "llama_init_from_model returned NULL";
        for (const auto & l : g_log.lines) if (l.find("failed") != std::string::npos || l.find("error") != std::string::npos || l.find("requires") != std::string::npos || l.find("does not") != std::string::npos) err += " | " + l;
        llama_model_free(model);
        return fail("create_context", err);
    }

    const llama_cparams & cpr = ctx->get_cparams();
    {
        jobj r;
        r.add("n_ctx", jnum(llama_n_ctx(ctx)))
         .add("n_ctx_seq", jnum(llama_n_ctx_seq(ctx)))
         .add("n_batch", jnum(llama_n_batch(ctx)))
         .add("n_ubatch", jnum(llama_n_ubatch(ctx)))
         .add("n_seq_max", jnum(llama_n_seq_max(ctx)))
         .add("n_outputs_max", jnum(cpr.n_outputs_max))
         .add("flash_attn", jbool(cpr.flash_attn))
         .add("kv_unified", jbool(cpr.kv_unified))
         .add("causal_attn", jbool(cpr.causal_attn))
         .add("fused_gdn_ar", jbool(cpr.fused_gdn_ar))
         .add("fused_gdn_ch", jbool(cpr.fused_gdn_ch))
         .add("offload_kqv", jbool(cpr.offload_kqv))
         .add("pipeline_parallel", jbool(cpr.pipeline_parallel))
         .add("sched_n_copies", jint(ggml_backend_sched_get_n_copies(ctx->sched.get())))
         .add("sched_n_splits", jint(ggml_backend_sched_get_n_splits(ctx->sched.get())));
        out.add("resolved", r.str());
    }

    // ---- llama.cpp's own accounting (same call common/fit.cpp uses)
    uint64_t bd_model = 0, bd_context = 0, bd_compute = 0;
    {
        std::vector<std::string> rows;
        for (const auto & [buft, mb] : llama_get_memory_breakdown(ctx)) {
            jobj r;
            r.add("buft", jstr(ggml_backend_buft_name(buft)))
             .add("is_host", jbool(ggml_backend_buft_is_host(buft)))
             .add("model", jnum(mb.model)).add("context", jnum(mb.context)).add("compute", jnum(mb.compute));
            rows.push_back(r.str());
            bd_model += mb.model; bd_context += mb.context; bd_compute += mb.compute;
        }
        out.add("breakdown", jarr(rows));
    }

    // ---- model buffers per buffer type
    {
        std::vector<std::string> rows;
        for (const auto & [buft, sz] : model->memory_breakdown()) {
            jobj r; r.add("buft", jstr(ggml_backend_buft_name(buft))).add("bytes", jnum(sz));
            rows.push_back(r.str());
        }
        out.add("model_buffers", jarr(rows));
    }

    // ---- memory module (KV cache / recurrent state)
    {
        llama_memory_i * mem = ctx->memory.get();
        jobj m;
        std::vector<std::string> kvs;
        std::string rs = "null";
        std::string kind = "none";
        if (mem) {
            if (auto * kv = dynamic_cast<llama_kv_cache *>(mem)) {
                kind = "kv";
                kvs.push_back(kv_json(kv, "base"));
            } else if (auto * dsa = dynamic_cast<llama_kv_cache_dsa *>(mem)) {
                // DeepSeek sparse attention: the MLA cache and the lightning indexer's key cache
                kind = "dsa";
                kvs.push_back(kv_json(dsa->kv_mla.get(), "base"));
                kvs.push_back(kv_json(dsa->kv_lid.get(), "indexer"));
            } else if (auto * dsai = dynamic_cast<llama_kv_cache_dsa_iswa *>(mem)) {
                kind = "dsa_iswa";
                kvs.push_back(kv_json(dsai->kv_dsa->kv_mla.get(), "base"));
                kvs.push_back(kv_json(dsai->kv_dsa->kv_lid.get(), "indexer"));
                kvs.push_back(kv_json(dsai->kv_swa.get(), "swa"));
            } else if (auto * msa = dynamic_cast<llama_kv_cache_msa *>(mem)) {
                kind = "msa";
                kvs.push_back(kv_json(msa->kv_base.get(), "base"));
                kvs.push_back(kv_json(msa->kv_idx.get(), "indexer"));
            } else if (auto * hyx = dynamic_cast<llama_memory_hybrid_idx *>(mem)) {
                kind = "hybrid_idx";
                kvs.push_back(kv_json(hyx->get_mem_attn(), "base"));
                if (hyx->mem_idx) kvs.push_back(kv_json(hyx->mem_idx.get(), "indexer"));
                rs = rs_json(hyx->get_mem_recr());
            } else if (auto * iswa = dynamic_cast<llama_kv_cache_iswa *>(mem)) {
                kind = "kv_iswa";
                kvs.push_back(kv_json(iswa->get_base(), "base"));
                kvs.push_back(kv_json(iswa->get_swa(),  "swa"));
            } else if (auto * hy = dynamic_cast<llama_memory_hybrid *>(mem)) {
                kind = "hybrid";
                kvs.push_back(kv_json(hy->get_mem_attn(), "base"));
                rs = rs_json(hy->get_mem_recr());
            } else if (auto * hyi = dynamic_cast<llama_memory_hybrid_iswa *>(mem)) {
                kind = "hybrid_iswa";
                kvs.push_back(kv_json(hyi->get_mem_attn()->get_base(), "base"));
                kvs.push_back(kv_json(hyi->get_mem_attn()->get_swa(),  "swa"));
                rs = rs_json(hyi->get_mem_recr());
            } else if (auto * rec = dynamic_cast<llama_memory_recurrent *>(mem)) {
                kind = "recurrent";
                rs = rs_json(rec);
            } else if (auto * v4 = dynamic_cast<llama_kv_cache_dsv4 *>(mem)) {
                // DeepSeek-V4: a K-only raw iSWA cache, compressed K caches (CSA 1/4, HCA 1/128,
                // lightning indexer 1/4) and the compressors' state
                kind = "dsv4";
                kvs.push_back(kv_json(v4->kv_raw->get_base(), "base"));
                kvs.push_back(kv_json(v4->kv_raw->get_swa(),  "swa"));
                kvs.push_back(kv_json(v4->kv_csa.get(), "csa"));
                kvs.push_back(kv_json(v4->kv_hca.get(), "hca"));
                kvs.push_back(kv_json(v4->kv_lid.get(), "indexer"));
                rs = dsv4_state_json(v4);
            } else {
                kind = "other";
            }
        }
        uint64_t k = 0, v = 0;
        // sum over kv caches (re-parse is overkill; recompute)
        if (mem) {
            auto add_kv = [&](const llama_kv_cache * c) {
                for (const auto & L : c->layers) { k += L.k ? ggml_nbytes(L.k) : 0; v += L.v ? ggml_nbytes(L.v) : 0; }
            };
            if (auto * kv = dynamic_cast<llama_kv_cache *>(mem)) add_kv(kv);
            else if (auto * dsa = dynamic_cast<llama_kv_cache_dsa *>(mem)) { add_kv(dsa->kv_mla.get()); add_kv(dsa->kv_lid.get()); }
            else if (auto * dsai = dynamic_cast<llama_kv_cache_dsa_iswa *>(mem)) { add_kv(dsai->kv_dsa->kv_mla.get()); add_kv(dsai->kv_dsa->kv_lid.get()); add_kv(dsai->kv_swa.get()); }
            else if (auto * msa = dynamic_cast<llama_kv_cache_msa *>(mem)) { add_kv(msa->kv_base.get()); add_kv(msa->kv_idx.get()); }
            else if (auto * hyx = dynamic_cast<llama_memory_hybrid_idx *>(mem)) { add_kv(hyx->get_mem_attn()); if (hyx->mem_idx) add_kv(hyx->mem_idx.get()); }
            else if (auto * iswa = dynamic_cast<llama_kv_cache_iswa *>(mem)) { add_kv(iswa->get_base()); add_kv(iswa->get_swa()); }
            else if (auto * hy = dynamic_cast<llama_memory_hybrid *>(mem)) add_kv(hy->get_mem_attn());
            else if (auto * hyi = dynamic_cast<llama_memory_hybrid_iswa *>(mem)) { add_kv(hyi->get_mem_attn()->get_base()); add_kv(hyi->get_mem_attn()->get_swa()); }
            else if (auto * v4 = dynamic_cast<llama_kv_cache_dsv4 *>(mem)) {
                add_kv(v4->kv_raw->get_base()); add_kv(v4->kv_raw->get_swa());
                add_kv(v4->kv_csa.get()); add_kv(v4->kv_hca.get()); add_kv(v4->kv_lid.get());
            }
        }
        m.add("kind", jstr(kind))
         .add("k_bytes", jnum(k))
         .add("v_bytes", jnum(v))
         .add("kv", jarr(kvs))
         .add("recurrent", rs)
         .add("total_bytes", jnum(bd_context));
        out.add("memory", m.str());
    }

    // ---- compute buffers per backend
    {
        std::vector<std::string> rows;
        for (size_t i = 0; i < ctx->backends.size(); ++i) {
            ggml_backend_t be = ctx->backends[i].get();
            ggml_backend_buffer_type_t buft = ggml_backend_sched_get_buffer_type(ctx->sched.get(), be);
            const uint64_t sz = mp.no_alloc ? ctx->backend_buf_exp_size[i] : ggml_backend_sched_get_buffer_size(ctx->sched.get(), be);
            jobj r;
            r.add("backend", jstr(ggml_backend_name(be))).add("buft", jstr(ggml_backend_buft_name(buft))).add("bytes", jnum(sz));
            rows.push_back(r.str());
        }
        out.add("compute_buffers", jarr(rows));
    }

    // ---- output buffer (logits/embeddings); not part of llama_get_memory_breakdown
    {
        jobj o;
        ggml_backend_buffer_t b = ctx->buf_output.get();
        o.add("buft", b ? jstr(ggml_backend_buffer_name(b)) : "null")
         .add("bytes", jnum(b ? ggml_backend_buffer_get_size(b) : 0));
        out.add("output_buffer", o.str());
    }

    {
        jobj t;
        t.add("model", jnum(bd_model)).add("context", jnum(bd_context)).add("compute", jnum(bd_compute))
         .add("output", jnum(ctx->buf_output ? ggml_backend_buffer_get_size(ctx->buf_output.get()) : 0))
         .add("total", jnum(bd_model + bd_context + bd_compute + (ctx->buf_output ? ggml_backend_buffer_get_size(ctx->buf_output.get()) : 0)));
        out.add("totals", t.str());
    }

    {
        std::vector<std::string> ml, cl;
        for (size_t i = 0; i < g_log.lines.size(); ++i) {
            if (!log_line_relevant(g_log.lines[i])) continue;
            (i < n_log_model ? ml : cl).push_back(jstr(g_log.lines[i]));
        }
        out.add("log_model", jarr(ml)).add("log_context", jarr(cl));
    }
    {
        jobj p;
        const auto io2 = read_proc_io();
        p.add("rchar_total", jnum(io2.count("rchar") ? io2.at("rchar") : 0))
         .add("peak_rss_kib", jnum(read_vm_hwm_kib()));
        out.add("process", p.str());
    }

    out.add("ok", "true");
    printf("%s\n", out.str().c_str());

    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
