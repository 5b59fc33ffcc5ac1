// oracle_load: llama.cpp's model loader as the judge of `gguf-meter check`'s tensor rules.
//
//   oracle_load FILE...      one JSON line per file: does llama_model_load_from_file accept it?
//
// Each file is loaded as llama-server would, on the CPU, with no_alloc (nothing is allocated, so a
// sparse copy of a header-only file works): llama_model_loader reads the header, the model's
// hyperparameters and vocabulary are loaded, and load_tensors asks for every tensor the
// architecture needs (create_tensor: "missing tensor", check_tensor_dims: "wrong shape",
// done_getting_tensors: "wrong number of tensors"). The reason for a refusal is the loader's
// "error loading model" line, captured with llama_log_set. load_mtp stays false, as in llama-server.

#include "oracle_common.h"

#include "llama.h"

#include <cstdio>
#include <string>
#include <vector>

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

int main(int argc, char ** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: oracle_load FILE...\n");
        return 2;
    }
    llama_log_set(capture_log, nullptr);
    llama_backend_init();
    for (int i = 1; i < argc; ++i) {
        g_log.clear();
        llama_model_params mp = llama_model_default_params();
        mp.n_gpu_layers = 0;
        mp.devices      = nullptr;
        mp.no_alloc     = true;
        mp.load_mode    = LLAMA_LOAD_MODE_NONE;  // no_alloc cannot be combined with mmap
        llama_model * model = llama_model_load_from_file(argv[i], mp);
        std::string reason;
        for (const auto & l : g_log) {
            const auto at = l.find("error loading model: ");
            if (at != std::string::npos) {
                reason = trimmed(l.substr(at + 21));
            }
        }
        jobj out;
        out.add("file", jstr(argv[i]));
        out.add("verdict", jstr(model ? "ok" : "refused"));
        out.add("reason", jstr(reason));
        printf("%s\n", out.str().c_str());
        fflush(stdout);
        if (model) {
            llama_model_free(model);
        }
    }
    llama_backend_free();
    return 0;
}
