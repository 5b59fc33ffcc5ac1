// gguf-meter oracle_gen: writes a loadable GGUF header for any architecture llama.cpp knows.
//
// Hand-written tensor lists do not scale to llama.cpp's 150 architectures, so this program asks
// llama.cpp itself. It starts from the hyperparameters of llama.cpp's own per-architecture test
// fixture (tests/test-llama-archs.cpp `get_gguf_ctx`, copied into gen/arch_fixture.inc by
// extract_arch_fixture.py at build time), applies the changes a spec asks for (more layers, a real
// model's geometry, another window...), and lets llama.cpp's loader build the model from metadata
// alone (`llama_model_init_from_user` with no_alloc: `load_tensors` asks for every tensor it
// needs, with its shape, and nothing is allocated). The tensors it asked for are written, with
// the metadata, as a header-only GGUF: the tensor data region is left out, as in the repo's other
// header-only fixtures, and a sparse copy (run.py) is what the oracle loads.
//
// usage:
//   oracle_gen list                 one JSON line per architecture: name, dense/MoE variants the
//                                   fixture supports, whether llama.cpp's saver knows it
//   oracle_gen gen SPEC.json        write the header SPEC describes; prints a JSON summary
//
// SPEC (all fields optional except arch and out):
//   {"arch": "cohere2", "moe": false, "n_layer": 8,
//    "set": {"{arch}.embedding_length": ["u32", 4096], "{arch}.attention.head_count_kv": ["u32[]", [8, 0]],
//            "tokenizer.ggml.model": ["str", "none"]},
//    "remove": ["tokenizer.ggml.tokens"], "quant": "q8_0", "out": "/tmp/x.gguf"}
// Value types: u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 bool str, and the same with [] for arrays.
// "n_layer" changes block_count and stretches every per-layer array (one whose length was the old
// block count) cyclically, so a fixture's layer pattern repeats. "quant" (f32 default, f16, q8_0,
// q4_0, ...) is applied to 2-D+ ".weight" tensors whose rows divide into the type's blocks, except
// norms and convolution kernels; everything else keeps the type llama.cpp gave it.

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ggml.h"
#include "ggml-cpp.h"
#include "gguf.h"
#include "llama.h"

#include <nlohmann/json.hpp>

#define private public
#define protected public
#include "llama-arch.h"
#include "llama-model.h"
#include "llama-model-saver.h"
#undef private
#undef protected

#include "arch_fixture.inc"

using json = nlohmann::json;

static std::string g_log_tail;

static void log_cb(ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_WARN) {
        g_log_tail += text;
        if (g_log_tail.size() > 4000) g_log_tail.erase(0, g_log_tail.size() - 4000);
    }
    if (getenv("ORACLE_GEN_VERBOSE")) fputs(text, stderr);
}

static std::string replace_all(std::string s, const std::string & from, const std::string & to) {
    for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) s.replace(p, from.size(), to);
    return s;
}

static gguf_type scalar_type(const std::string & t) {
    static const std::map<std::string, gguf_type> m = {
        {"u8", GGUF_TYPE_UINT8},   {"i8", GGUF_TYPE_INT8},     {"u16", GGUF_TYPE_UINT16}, {"i16", GGUF_TYPE_INT16},
        {"u32", GGUF_TYPE_UINT32}, {"i32", GGUF_TYPE_INT32},   {"u64", GGUF_TYPE_UINT64}, {"i64", GGUF_TYPE_INT64},
        {"f32", GGUF_TYPE_FLOAT32}, {"f64", GGUF_TYPE_FLOAT64}, {"bool", GGUF_TYPE_BOOL},  {"str", GGUF_TYPE_STRING},
    };
    auto it = m.find(t);
    if (it == m.end()) throw std::runtime_error("unknown value type " + t);
    return it->second;
}

// Raw little-endian bytes of one scalar of type t.
static void push_scalar(std::vector<uint8_t> & out, gguf_type t, const json & v) {
    auto put = [&](auto x) {
        const uint8_t * p = (const uint8_t *) &x;
        out.insert(out.end(), p, p + sizeof(x));
    };
    switch (t) {
        case GGUF_TYPE_UINT8:   put((uint8_t) v.get<uint64_t>()); break;
        case GGUF_TYPE_INT8:    put((int8_t) v.get<int64_t>()); break;
        case GGUF_TYPE_UINT16:  put((uint16_t) v.get<uint64_t>()); break;
        case GGUF_TYPE_INT16:   put((int16_t) v.get<int64_t>()); break;
        case GGUF_TYPE_UINT32:  put((uint32_t) v.get<uint64_t>()); break;
        case GGUF_TYPE_INT32:   put((int32_t) v.get<int64_t>()); break;
        case GGUF_TYPE_UINT64:  put((uint64_t) v.get<uint64_t>()); break;
        case GGUF_TYPE_INT64:   put((int64_t) v.get<int64_t>()); break;
        case GGUF_TYPE_FLOAT32: put((float) v.get<double>()); break;
        case GGUF_TYPE_FLOAT64: put((double) v.get<double>()); break;
        case GGUF_TYPE_BOOL:    put((int8_t) (v.get<bool>() ? 1 : 0)); break;
        default: throw std::runtime_error("not a scalar type");
    }
}

static void set_value(gguf_context * ctx, const std::string & key, const json & tv) {
    std::string t = tv.at(0).get<std::string>();
    const json & v = tv.at(1);
    const bool arr = t.size() > 2 && t.compare(t.size() - 2, 2, "[]") == 0;
    if (arr) t.resize(t.size() - 2);
    const gguf_type gt = scalar_type(t);
    if (!arr) {
        if (gt == GGUF_TYPE_STRING) {
            gguf_set_val_str(ctx, key.c_str(), v.get<std::string>().c_str());
            return;
        }
        std::vector<uint8_t> b;
        push_scalar(b, gt, v);
        switch (gt) {
            case GGUF_TYPE_UINT8:   gguf_set_val_u8(ctx, key.c_str(), *(uint8_t *) b.data()); break;
            case GGUF_TYPE_INT8:    gguf_set_val_i8(ctx, key.c_str(), *(int8_t *) b.data()); break;
            case GGUF_TYPE_UINT16:  gguf_set_val_u16(ctx, key.c_str(), *(uint16_t *) b.data()); break;
            case GGUF_TYPE_INT16:   gguf_set_val_i16(ctx, key.c_str(), *(int16_t *) b.data()); break;
            case GGUF_TYPE_UINT32:  gguf_set_val_u32(ctx, key.c_str(), *(uint32_t *) b.data()); break;
            case GGUF_TYPE_INT32:   gguf_set_val_i32(ctx, key.c_str(), *(int32_t *) b.data()); break;
            case GGUF_TYPE_UINT64:  gguf_set_val_u64(ctx, key.c_str(), *(uint64_t *) b.data()); break;
            case GGUF_TYPE_INT64:   gguf_set_val_i64(ctx, key.c_str(), *(int64_t *) b.data()); break;
            case GGUF_TYPE_FLOAT32: gguf_set_val_f32(ctx, key.c_str(), *(float *) b.data()); break;
            case GGUF_TYPE_FLOAT64: gguf_set_val_f64(ctx, key.c_str(), *(double *) b.data()); break;
            case GGUF_TYPE_BOOL:    gguf_set_val_bool(ctx, key.c_str(), *(int8_t *) b.data() != 0); break;
            default: break;
        }
        return;
    }
    if (gt == GGUF_TYPE_STRING) {
        std::vector<std::string> s = v.get<std::vector<std::string>>();
        std::vector<const char *> p;
        for (auto & x : s) p.push_back(x.c_str());
        gguf_set_arr_str(ctx, key.c_str(), p.data(), p.size());
        return;
    }
    std::vector<uint8_t> b;
    for (const auto & x : v) push_scalar(b, gt, x);
    gguf_set_arr_data(ctx, key.c_str(), gt, b.data(), v.size());
}

// Stretch every numeric per-layer array (length == old block count) to n_new, repeating it.
static void stretch_layer_arrays(gguf_context * ctx, uint32_t n_old, uint32_t n_new) {
    const int64_t n_kv = gguf_get_n_kv(ctx);
    std::vector<std::string> keys;
    for (int64_t i = 0; i < n_kv; ++i) keys.push_back(gguf_get_key(ctx, i));
    for (const auto & key : keys) {
        const int64_t id = gguf_find_key(ctx, key.c_str());
        if (id < 0 || gguf_get_kv_type(ctx, id) != GGUF_TYPE_ARRAY) continue;
        if (key.rfind("tokenizer.", 0) == 0) continue;
        const gguf_type at = gguf_get_arr_type(ctx, id);
        if (at == GGUF_TYPE_STRING || at == GGUF_TYPE_ARRAY) continue;
        if (gguf_get_arr_n(ctx, id) != n_old || n_old == 0) continue;
        size_t es = 0;
        switch (at) {
            case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: es = 1; break;
            case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: es = 2; break;
            case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: es = 4; break;
            default: es = 8; break;
        }
        const uint8_t * src = (const uint8_t *) gguf_get_arr_data(ctx, id);
        std::vector<uint8_t> b(es * n_new);
        for (uint32_t i = 0; i < n_new; ++i) memcpy(b.data() + i * es, src + (i % n_old) * es, es);
        gguf_set_arr_data(ctx, key.c_str(), at, b.data(), n_new);
    }
}

static bool is_quant_candidate(const ggml_tensor * t, ggml_type q) {
    const std::string name = t->name;
    if (name.size() < 7 || name.compare(name.size() - 7, 7, ".weight") != 0) return false;
    if (name.find("norm") != std::string::npos || name.find("conv") != std::string::npos) return false;
    if (ggml_n_dims(t) < 2 || t->type != GGML_TYPE_F32) return false;
    return t->ne[0] % ggml_blck_size(q) == 0;
}

// Block index for ordering: non-block tensors first (embeddings), then blk.N, then output*.
static std::pair<long, std::string> order_key(const std::string & name) {
    if (name.rfind("blk.", 0) == 0) return {std::atol(name.c_str() + 4), name};
    if (name.rfind("output", 0) == 0) return {1L << 40, name};
    return {-1, name};
}

static int cmd_list() {
    for (const llm_arch arch : llm_arch_all()) {
        if (arch == LLM_ARCH_UNKNOWN) continue;
        json j;
        j["arch"] = llm_arch_name(arch);
        std::vector<bool> variants;
        for (bool moe : {false, true}) {
            if (moe && !moe_implemented(arch)) continue;
            if (!moe && moe_mandatory(arch)) continue;
            variants.push_back(moe);
        }
        j["moe_variants"] = variants;
        j["saver_supports"] = llama_model_saver_supports_arch(arch);
        j["test_supported"] = arch_supported(arch);
        printf("%s\n", j.dump().c_str());
    }
    return 0;
}

static int cmd_gen(const std::string & spec_path) {
    std::ifstream f(spec_path);
    if (!f) throw std::runtime_error("cannot read " + spec_path);
    const json spec = json::parse(f);
    const std::string arch_name = spec.at("arch").get<std::string>();
    const llm_arch arch = llm_arch_from_string(arch_name);
    if (arch == LLM_ARCH_UNKNOWN) throw std::runtime_error("unknown architecture " + arch_name);
    const bool moe = spec.value("moe", moe_mandatory(arch));
    const std::string out = spec.at("out").get<std::string>();

    gguf_context_ptr meta = get_gguf_ctx(arch, moe);
    gguf_context * ctx = meta.get();
    const std::string bc_key = arch_name + ".block_count";
    if (spec.contains("n_layer")) {
        const int64_t id = gguf_find_key(ctx, bc_key.c_str());
        const uint32_t n_old = id >= 0 ? gguf_get_val_u32(ctx, id) : 0;
        const uint32_t n_new = spec["n_layer"].get<uint32_t>();
        gguf_set_val_u32(ctx, bc_key.c_str(), n_new);
        stretch_layer_arrays(ctx, n_old, n_new);
    }
    if (spec.contains("remove")) {
        for (const auto & k : spec["remove"]) gguf_remove_key(ctx, replace_all(k.get<std::string>(), "{arch}", arch_name).c_str());
    }
    if (spec.contains("set")) {
        for (const auto & [k, tv] : spec["set"].items()) set_value(ctx, replace_all(k, "{arch}", arch_name), tv);
    }

    llama_model_params mp = llama_model_default_params();
    mp.no_alloc = true;
    mp.n_gpu_layers = 0;
    if (spec.value("load_mtp", false)) mp.load_mtp = true;
    llama_model * model = llama_model_init_from_user(ctx, [](ggml_tensor *, void *) {}, nullptr, mp);
    if (!model) throw std::runtime_error("llama.cpp refused the metadata: " + g_log_tail);

    ggml_type q = GGML_TYPE_F32;
    const std::string quant = spec.value("quant", std::string("f32"));
    {
        bool found = false;
        for (int t = 0; t < GGML_TYPE_COUNT; ++t) {
            const char * n = ggml_type_name((ggml_type) t);
            if (n && quant == n) { q = (ggml_type) t; found = true; }
        }
        if (!found) throw std::runtime_error("unknown quant type " + quant);
    }

    // One entry per name: the output tensor llama.cpp duplicates from token_embd is the same tensor.
    std::map<std::string, ggml_tensor *> by_name;
    for (auto & [name, t] : model->tensors_by_name) by_name.emplace(name, t);
    std::vector<std::pair<std::pair<long, std::string>, ggml_tensor *>> ordered;
    for (auto & [name, t] : by_name) ordered.push_back({order_key(name), t});
    std::sort(ordered.begin(), ordered.end(), [](auto & a, auto & b) { return a.first < b.first; });

    ggml_init_params ip = {ggml_tensor_overhead() * (ordered.size() + 1), nullptr, true};
    ggml_context_ptr tctx(ggml_init(ip));
    gguf_context_ptr outctx(gguf_init_empty());
    gguf_set_kv(outctx.get(), ctx);
    size_t n_quant = 0;
    uint64_t data_bytes = 0;
    for (auto & [key, t] : ordered) {
        const ggml_type type = (q != GGML_TYPE_F32 && is_quant_candidate(t, q)) ? q : t->type;
        n_quant += type != t->type;
        ggml_tensor * c = ggml_new_tensor(tctx.get(), type, GGML_MAX_DIMS, t->ne);
        ggml_set_name(c, t->name);
        gguf_add_tensor(outctx.get(), c);
        data_bytes += ggml_nbytes(c);
    }
    if (!gguf_write_to_file(outctx.get(), out.c_str(), /*only_meta =*/ true)) throw std::runtime_error("cannot write " + out);

    json r;
    r["ok"] = true;
    r["arch"] = arch_name;
    r["moe"] = moe;
    r["out"] = out;
    r["n_tensors"] = ordered.size();
    r["n_quantized"] = n_quant;
    r["quant"] = quant;
    r["data_bytes"] = data_bytes;
    r["n_layer"] = model->hparams.n_layer();
    printf("%s\n", r.dump().c_str());
    llama_model_free(model);
    return 0;
}

int main(int argc, char ** argv) {
    llama_log_set(log_cb, nullptr);
    llama_backend_init();
    try {
        if (argc >= 2 && std::string(argv[1]) == "list") return cmd_list();
        if (argc >= 3 && std::string(argv[1]) == "gen") return cmd_gen(argv[2]);
        fprintf(stderr, "usage: %s list | gen SPEC.json\n", argv[0]);
        return 2;
    } catch (const std::exception & e) {
        json r;
        r["ok"] = false;
        r["error"] = e.what();
        r["log"] = g_log_tail;
        printf("%s\n", r.dump().c_str());
        return 1;
    }
}
