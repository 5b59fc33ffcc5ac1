// oracle_gguf: llama.cpp's own GGUF reader as the judge of `gguf-meter check`'s structural rules.
//
//   oracle_gguf check FILE...            one JSON line per file: does llama.cpp's loader accept it?
//   oracle_gguf generate DIR SEED...     files made by llama.cpp's tests/test-gguf.cpp generators
//
// `check` reads each file as llama_model_loader does (llama-model-loader.cpp: gguf_init_from_file
// with no_alloc = true and a ggml context), then applies the loader's per-tensor checks that need
// no architecture: duplicate names and `llama_tensor_weight`'s "data is not within the file
// bounds" (llama-model-loader.h). The reason for a refusal is what ggml logged (captured with
// ggml_log_set). Architecture-level checks (keys, tensor names and shapes) are not made here.
//
// `generate` compiles llama.cpp's tests/test-gguf.cpp into this program (its `main` renamed) and
// calls its generators: get_handcrafted_file() for every handcrafted_file_type test-gguf uses, and
// get_random_gguf_context() written with gguf_write_to_file (whole, and metadata only), per seed.

#define main test_gguf_main
#include "tests/test-gguf.cpp"
#undef main

#include "oracle_common.h"

#include "ggml-cpu.h"

#include <sys/stat.h>

#include <set>

static std::vector<std::string> g_log;

static void capture_log(enum ggml_log_level level, const char * text, void * /*user*/) {
    if (level == GGML_LOG_LEVEL_CONT && !g_log.empty()) {
        g_log.back() += text;
        return;
    }
    g_log.emplace_back(text);
}

static std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    return s;
}

static int cmd_check(int argc, char ** argv) {
    ggml_log_set(capture_log, nullptr);
    for (int i = 0; i < argc; ++i) {
        const char * path = argv[i];
        g_log.clear();
        jobj out;
        out.add("file", jstr(path));

        struct stat st;
        const uint64_t file_size = stat(path, &st) == 0 ? (uint64_t) st.st_size : 0;
        out.add("file_bytes", jnum(file_size));

        struct ggml_context * ctx = nullptr;
        struct gguf_init_params params = {
            /*.no_alloc = */ true,
            /*.ctx      = */ &ctx,
        };
        struct gguf_context * gctx = gguf_init_from_file(path, params);
        std::string stage = "ok";
        std::string reason;
        if (gctx == nullptr) {
            stage = "gguf";
        } else {
            // llama_model_loader's constructor, for the main file (llama-model-loader.cpp)
            std::set<std::string> names;
            for (ggml_tensor * cur = ggml_get_first_tensor(ctx); cur; cur = ggml_get_next_tensor(ctx, cur)) {
                if (!names.insert(cur->name).second) {
                    stage = "loader";
                    reason = std::string("invalid model: tensor '") + cur->name + "' is duplicated";
                    break;
                }
                const int idx = gguf_find_tensor(gctx, ggml_get_name(cur));
                if (idx < 0) {
                    stage = "loader";
                    reason = std::string("tensor '") + cur->name + "' not found in the model";
                    break;
                }
                const size_t offs = gguf_get_data_offset(gctx) + gguf_get_tensor_offset(gctx, idx);
                if (offs + ggml_nbytes(cur) < offs || offs + ggml_nbytes(cur) > file_size) {
                    stage = "loader";
                    reason = std::string("tensor '") + cur->name + "' data is not within the file bounds, model is corrupted or incomplete";
                    break;
                }
            }
            out.add("version", jnum(gguf_get_version(gctx)))
               .add("n_kv", jint(gguf_get_n_kv(gctx)))
               .add("n_tensors", jint(gguf_get_n_tensors(gctx)))
               .add("alignment", jnum(gguf_get_alignment(gctx)))
               .add("data_offset", jnum(gguf_get_data_offset(gctx)));
            gguf_free(gctx);
            ggml_free(ctx);
        }
        std::vector<std::string> log;
        for (const auto & l : g_log) {
            log.push_back(jstr(trimmed(l)));
        }
        out.add("verdict", jstr(stage == "ok" ? "ok" : "refused"))
           .add("stage", jstr(stage))
           .add("reason", jstr(reason))
           .add("log", jarr(log))
           .add("llama_cpp", llama_cpp_build().str());
        printf("%s\n", out.str().c_str());
        fflush(stdout);
    }
    ggml_log_set(nullptr, nullptr);
    return 0;
}

static bool write_bytes(const std::string & path, const std::vector<uint8_t> & bytes) {
    FILE * f = fopen(path.c_str(), "wb");
    if (!f) {
        return false;
    }
    const bool ok = fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return fclose(f) == 0 && ok;
}

// Every handcrafted_file_type test_handcrafted_file() runs, in its order.
static const std::vector<handcrafted_file_type> HFTS = {
    HANDCRAFTED_HEADER_BAD_MAGIC, HANDCRAFTED_HEADER_BAD_VERSION_0, HANDCRAFTED_HEADER_BAD_VERSION_1,
    HANDCRAFTED_HEADER_BAD_VERSION_FUTURE, HANDCRAFTED_HEADER_BAD_N_KV, HANDCRAFTED_HEADER_BAD_N_TENSORS,
    HANDCRAFTED_HEADER_EMPTY,
    HANDCRAFTED_KV_BAD_KEY_SIZE, HANDCRAFTED_KV_EMPTY_KEY, HANDCRAFTED_KV_BAD_TYPE, HANDCRAFTED_KV_DUPLICATE_KEY,
    HANDCRAFTED_KV_BAD_ALIGN, HANDCRAFTED_KV_WRONG_TYPE_ALIGN, HANDCRAFTED_KV_SUCCESS,
    HANDCRAFTED_TENSORS_BAD_NAME_SIZE, HANDCRAFTED_TENSORS_BAD_N_DIMS, HANDCRAFTED_TENSORS_BAD_SHAPE,
    HANDCRAFTED_TENSORS_ZERO_DIM, HANDCRAFTED_TENSORS_NE_TOO_BIG, HANDCRAFTED_TENSORS_NBYTES_TOO_BIG,
    HANDCRAFTED_TENSORS_NBYTES_PAD_WRAP, HANDCRAFTED_TENSORS_BAD_TYPE, HANDCRAFTED_TENSORS_BAD_OFFSET,
    HANDCRAFTED_TENSORS_DUPLICATE_NAME, HANDCRAFTED_TENSORS_BAD_ALIGN, HANDCRAFTED_TENSORS_INCONSISTENT_ALIGN,
    HANDCRAFTED_TENSORS_SUCCESS, HANDCRAFTED_TENSORS_CUSTOM_ALIGN,
    HANDCRAFTED_DATA_NOT_ENOUGH_DATA, HANDCRAFTED_DATA_BAD_ALIGN, HANDCRAFTED_DATA_INCONSISTENT_ALIGN,
    HANDCRAFTED_DATA_MEM_SIZE_OVERFLOW, HANDCRAFTED_DATA_SUCCESS, HANDCRAFTED_DATA_CUSTOM_ALIGN,
};

static int cmd_generate(const std::string & dir, int argc, char ** argv) {
    ggml_backend_t backend = ggml_backend_cpu_init();
    if (!backend) {
        fprintf(stderr, "no CPU backend\n");
        return 1;
    }
    for (int i = 0; i < argc; ++i) {
        const unsigned int seed = (unsigned int) std::stoul(argv[i]);
        for (handcrafted_file_type hft : HFTS) {
            FILE * f = get_handcrafted_file(seed, hft);
            if (!f) {
                fprintf(stderr, "tmpfile failed\n");
                return 1;
            }
            const std::vector<uint8_t> bytes = read_file_to_buffer(f);
            fclose(f);
            const std::string path = dir + "/hc-s" + std::to_string(seed) + "-" + handcrafted_file_type_name(hft) + ".gguf";
            if (!write_bytes(path, bytes)) {
                fprintf(stderr, "cannot write %s\n", path.c_str());
                return 1;
            }
            printf("%s\n", path.c_str());
        }
        for (bool only_meta : {false, true}) {
            random_gguf_context_result r = get_random_gguf_context(backend, seed);
            const std::string path = dir + "/random-s" + std::to_string(seed) + (only_meta ? "-meta" : "") + ".gguf";
            if (!gguf_write_to_file(r.gguf_ctx, path.c_str(), only_meta)) {
                fprintf(stderr, "cannot write %s\n", path.c_str());
                return 1;
            }
            printf("%s\n", path.c_str());
            ggml_backend_buffer_free(r.buffer);
            ggml_free(r.ctx);
            gguf_free(r.gguf_ctx);
        }
    }
    ggml_backend_free(backend);
    return 0;
}

int main(int argc, char ** argv) {
    if (argc >= 3 && std::string(argv[1]) == "check") {
        return cmd_check(argc - 2, argv + 2);
    }
    if (argc >= 4 && std::string(argv[1]) == "generate") {
        return cmd_generate(argv[2], argc - 3, argv + 3);
    }
    fprintf(stderr, "usage: oracle_gguf check FILE... | oracle_gguf generate DIR SEED...\n");
    return 2;
}
