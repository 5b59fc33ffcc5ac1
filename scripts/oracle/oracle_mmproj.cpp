// gguf-meter mmproj oracle: load a vision projector (mmproj, general.architecture = clip) with
// llama.cpp's clip loader on the CPU, exactly as llama-server's mtmd_context does
// (clip_init with warmup; no_alloc like mtmd_get_memory_usage, which llama-server uses for
// --fit), and print, as JSON on stdout, the weight buffer, the compute buffer the warm-up
// graph reserves per backend, the warm-up image size / token count and whether flash
// attention ended up on.
//
// With --image-tokens N the warm-up image is replaced by a square image of N output tokens
// (sqrt(N) * patch_size * n_merge pixels a side): the compute buffer an image of that size
// needs when it is encoded (the scheduler grows its buffer to the largest graph it has seen,
// so an image bigger than the warm-up one raises the buffer to this figure).
//
// clip.cpp is compiled into this translation unit (#include below) so that the loader's
// internals (clip_model_loader, clip_ctx, hparams) can be read directly; the graph builders
// in tools/mtmd/models/*.cpp are compiled alongside (CMakeLists.txt).
//
// usage: oracle_mmproj MMPROJ.gguf [--fa on|off|auto] [--image-min-tokens N]
//        [--image-max-tokens N] [--load noalloc|alloc] [--image-tokens N] [--verbose]

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <sys/stat.h>

#include "clip.cpp"


static const int ORACLE_MMPROJ_SCHEMA_VERSION = 1;

// ---------------------------------------------------------------- JSON helpers

#include "oracle_common.h"


// ---------------------------------------------------------------- log capture

static std::vector<std::string> g_lines;
static std::string g_pending;
static bool g_verbose = false;

static void log_cb(ggml_log_level level, const char * text, void *) {
    if (g_verbose) fputs(text, stderr);
    if (level == GGML_LOG_LEVEL_DEBUG) return;
    g_pending += text;
    size_t pos;
    while ((pos = g_pending.find('\n')) != std::string::npos) {
        std::string line = g_pending.substr(0, pos);
        g_pending.erase(0, pos + 1);
        if (!line.empty()) g_lines.push_back(line);
    }
}

static bool relevant(const std::string & l) {
    if (l.find(" took ") != std::string::npos) return false;
    static const char * pats[] = {
        "buffer size", "warmup", "flash attention", "projector", "image_size", "patch_size",
        "n_merge", "image_min_pixels", "image_max_pixels", "graph splits", "error", "failed", "n_embd",
        "n_head", "n_layer", "model size", "metadata size",
    };
    for (const char * p : pats) if (l.find(p) != std::string::npos) return true;
    return false;
}

static std::vector<std::string> log_json() {
    std::vector<std::string> v;
    for (const auto & l : g_lines) if (relevant(l)) v.push_back(jstr(l));
    return v;
}

// ---------------------------------------------------------------- measuring

static std::string compute_json(clip_ctx & c) {
    std::vector<std::string> rows;
    for (size_t i = 0; i < c.backend_ptrs.size(); ++i) {
        jobj r;
        r.add("backend", jstr(ggml_backend_name(c.backend_ptrs[i])))
         .add("buft", jstr(ggml_backend_buft_name(c.backend_buft[i])))
         .add("bytes", jnum(ggml_backend_sched_get_buffer_size(c.sched.get(), c.backend_ptrs[i])));
        rows.push_back(r.str());
    }
    return jarr(rows);
}

static uint64_t compute_total(clip_ctx & c) {
    uint64_t t = 0;
    for (auto * b : c.backend_ptrs) t += ggml_backend_sched_get_buffer_size(c.sched.get(), b);
    return t;
}

static clip_image_f32_batch square_batch(int side) {
    clip_image_f32_batch batch;
    clip_image_f32 img;
    img.set_size({side, side}, false, false);
    batch.entries.push_back(img);
    return batch;
}

static void usage() {
    fprintf(stderr,
        "usage: oracle_mmproj MMPROJ.gguf [--fa on|off|auto] [--image-min-tokens N] [--image-max-tokens N]\n"
        "       [--load noalloc|alloc] [--image-tokens N] [--verbose]\n");
}

int main(int argc, char ** argv) {
    if (argc < 2) { usage(); return 2; }
    std::string path = argv[1], fa = "auto", load = "noalloc";
    int min_tokens = -1, max_tokens = -1;
    int image_tokens = 0;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) { usage(); exit(2); }
            return argv[++i];
        };
        if      (a == "--fa")               fa = next();
        else if (a == "--image-min-tokens") min_tokens = std::stoi(next());
        else if (a == "--image-max-tokens") max_tokens = std::stoi(next());
        else if (a == "--load")             load = next();
        else if (a == "--image-tokens")     image_tokens = std::stoi(next());
        else if (a == "--verbose")          g_verbose = true;
        else { usage(); return 2; }
    }
    if ((fa != "on" && fa != "off" && fa != "auto") || (load != "noalloc" && load != "alloc")) { usage(); return 2; }

    ggml_log_set(log_cb, nullptr);
    g_logger_state.log_callback = log_cb;   // clip's own logger

    jobj out;
    out.add("schema_version", jint(ORACLE_MMPROJ_SCHEMA_VERSION));
    {
        jobj lc = llama_cpp_build();
        out.add("llama_cpp", lc.str());
    }
    {
        jobj s;
        s.add("flash_attn", jstr(fa)).add("image_min_tokens", jint(min_tokens))
         .add("image_max_tokens", jint(max_tokens)).add("load", jstr(load))
         .add("image_tokens", jint(image_tokens));
        out.add("settings", s.str());
    }
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) {
        out.add("file_size", jnum(st.st_size)).add("file_allocated_bytes", jnum((uint64_t) st.st_blocks * 512));
    }

    // what llama-server passes (tools/server/server-context.cpp), with the GPU off
    clip_context_params p {};
    p.use_gpu          = false;
    p.device           = nullptr;
    p.flash_attn_type  = fa == "on" ? CLIP_FLASH_ATTN_TYPE_ENABLED : fa == "off" ? CLIP_FLASH_ATTN_TYPE_DISABLED : CLIP_FLASH_ATTN_TYPE_AUTO;
    p.image_min_tokens = min_tokens;
    p.image_max_tokens = max_tokens;
    p.warmup           = image_tokens <= 0;   // else: our own warm-up image below
    p.no_alloc         = load == "noalloc";

    clip_init_result res = clip_init(path.c_str(), p);
    clip_ctx * c = res.ctx_v;
    if (!c) {
        out.add("ok", "false").add("error_stage", jstr("clip_init"))
           .add("error", jstr("clip_init returned no vision context")).add("log", jarr(log_json()));
        printf("%s\n", out.str().c_str());
        return 1;
    }
    const auto & hp = c->model.hparams;
    int side = hp.warmup_image_size;
    if (image_tokens > 0) {
        const int side_tokens = (int) std::lround(std::sqrt((double) image_tokens));
        side = side_tokens * hp.patch_size * std::max(1, hp.n_merge);
        clip_model_loader::warmup(*c, square_batch(side));
    }
    uint64_t n_tensors = 0;
    for (ggml_tensor * t = ggml_get_first_tensor(c->ctx_data.get()); t; t = ggml_get_next_tensor(c->ctx_data.get(), t)) ++n_tensors;
    {
        clip_image_f32 img;
        img.set_size({side, side}, false, false);
        jobj m;
        m.add("projector_type", jstr(PROJECTOR_TYPE_NAMES[c->model.proj_type]))
         .add("image_size", jint(hp.image_size))
         .add("patch_size", jint(hp.patch_size))
         .add("n_embd", jint(hp.n_embd))
         .add("n_ff", jint(hp.n_ff))
         .add("n_head", jint(hp.n_head))
         .add("n_layer", jint(hp.n_layer))
         .add("n_merge", jint(hp.n_merge))
         .add("projection_dim", jint(clip_n_mmproj_embd(c)))
         .add("image_min_pixels", jint(hp.image_min_pixels))
         .add("image_max_pixels", jint(hp.image_max_pixels))
         .add("n_tensors", jnum(n_tensors));
        out.add("model", m.str());

        jobj w;
        w.add("image_size", jint(side))
         .add("default_image_size", jint(hp.warmup_image_size))
         .add("n_patches", jint((int64_t) (side / hp.patch_size) * (side / hp.patch_size)))
         .add("n_tokens", jint(clip_n_output_tokens(c, &img)))
         .add("flash_attn", jbool(c->flash_attn_type == CLIP_FLASH_ATTN_TYPE_ENABLED))
         .add("compute_buffers", compute_json(*c))
         .add("compute_bytes", jnum(compute_total(*c)));
        out.add("warmup", w.str());
    }
    {
        std::vector<std::string> rows;
        uint64_t total = 0, nbytes = 0;
        if (c->buf) {
            jobj r;
            const uint64_t sz = ggml_backend_buffer_get_size(c->buf.get());
            r.add("buft", jstr(ggml_backend_buft_name(ggml_backend_buffer_get_type(c->buf.get())))).add("bytes", jnum(sz));
            rows.push_back(r.str());
            total += sz;
        }
        for (auto & [dev, sz] : c->mem_usage) nbytes += sz;
        out.add("weight_buffers", jarr(rows)).add("weight_bytes", jnum(total)).add("weight_nbytes_sum", jnum(nbytes));
    }
    {
        // mtmd_get_memory_usage's figure (what llama-server adds to --fit's target per device)
        uint64_t total = 0;
        for (auto & [dev, sz] : clip_get_mem_usage(c)) total += sz;
        out.add("mem_usage_total", jnum(total));
    }
    out.add("ok", "true").add("log", jarr(log_json()));
    printf("%s\n", out.str().c_str());
    clip_free(c);
    clip_free(res.ctx_a);
    return 0;
}
