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
// --largest replaces it by the largest square image clip accepts: the side of
// hparams.image_max_pixels, floored to whole merged patches (the fixed image_size for
// projectors without a pixel limit).
//
// Every context clip_init creates is measured (vision, and audio for projectors that have an
// audio encoder): `contexts` lists them, and the top-level fields repeat the first one.
//
// --requests lists every tensor name and metadata key the loader looked up (found or not), so
// that scripts/oracle/mmproj_types.py can let clip's own loader say what a projector needs:
// ggml_get_tensor and gguf_find_key are routed through recording wrappers for clip.cpp only.
//
// usage: oracle_mmproj MMPROJ.gguf [--fa on|off|auto] [--image-min-tokens N]
//        [--image-max-tokens N] [--load noalloc|alloc] [--image-tokens N | --largest]
//        [--requests] [--verbose]

#include <cstdint>
#include <cstdio>
#include <string>
#include <set>
#include <vector>
#include <sys/stat.h>

#include "ggml.h"
#include "gguf.h"

// what clip's loader asks for (see --requests); wrappers defined before clip.cpp is included
static std::vector<std::string> g_req_tensors, g_req_keys;
static ggml_tensor * oracle_get_tensor(ggml_context * ctx, const char * name) {
    g_req_tensors.push_back(name);
    return ggml_get_tensor(ctx, name);
}
static int64_t oracle_find_key(const gguf_context * ctx, const char * key) {
    g_req_keys.push_back(key);
    return gguf_find_key(ctx, key);
}
#define ggml_get_tensor oracle_get_tensor
#define gguf_find_key oracle_find_key
#include "clip.cpp"
#undef ggml_get_tensor
#undef gguf_find_key


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

static std::vector<std::string> unique_json(const std::vector<std::string> & v) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto & s : v) if (seen.insert(s).second) out.push_back(jstr(s));
    return out;
}

static const char * modality_name(clip_modality m) {
    return m == CLIP_MODALITY_VISION ? "vision" : m == CLIP_MODALITY_AUDIO ? "audio" : "gen_audio";
}

// The largest square image clip accepts: image_max_pixels' side in whole merged patches.
static int largest_side(const clip_hparams & hp) {
    const int unit = hp.patch_size * std::max(1, hp.n_merge);
    if (hp.image_max_pixels <= 0 || unit <= 0) return hp.image_size;
    const int side = (int) std::sqrt((double) hp.image_max_pixels);
    return std::max(unit, side / unit * unit);
}

// One clip context: hparams, the image (or audio clip) its compute buffer was reserved for,
// the weight buffer. `image_side` > 0: reserve for that square image instead of the warm-up one.
static jobj measure(clip_ctx & c, int image_side, bool reserved_by_init) {
    const auto & hp = c.model.hparams;
    const bool vision = c.model.modality == CLIP_MODALITY_VISION;
    // clip_init gives the audio-generation context no warm-up ("TODO: fix warmup"): nothing is
    // reserved for it at load, so it is recorded as clip_init leaves it
    const bool gen = c.model.modality == CLIP_MODALITY_GEN_AUDIO;
    clip_image_f32 img;
    int side = hp.warmup_image_size;
    if (gen) {
    } else if (vision && image_side > 0) {
        side = image_side;
        clip_model_loader::warmup(c, square_batch(side));
    } else if (!reserved_by_init) {
        clip_model_loader::warmup(c);
    }
    if (vision) img.set_size({side, side}, false, false);
    else        img.set_size({hp.warmup_audio_size, hp.n_mel_bins}, false, false);
    uint64_t n_tensors = 0;
    for (ggml_tensor * t = ggml_get_first_tensor(c.ctx_data.get()); t; t = ggml_get_next_tensor(c.ctx_data.get(), t)) ++n_tensors;
    jobj ctx;
    ctx.add("modality", jstr(modality_name(c.model.modality)));
    {
        jobj m;
        m.add("projector_type", jstr(PROJECTOR_TYPE_NAMES[c.model.proj_type]))
         .add("image_size", jint(hp.image_size))
         .add("patch_size", jint(hp.patch_size))
         .add("n_embd", jint(hp.n_embd))
         .add("n_ff", jint(hp.n_ff))
         .add("n_head", jint(hp.n_head))
         .add("n_head_kv", jint(hp.n_head_kv))
         .add("n_layer", jint(hp.n_layer))
         .add("n_merge", jint(hp.n_merge))
         .add("projection_dim", jint(clip_n_mmproj_embd(&c)))
         .add("image_min_pixels", jint(hp.image_min_pixels))
         .add("image_max_pixels", jint(hp.image_max_pixels))
         .add("warmup_image_size", jint(hp.warmup_image_size))
         .add("largest_image_size", jint(vision ? largest_side(hp) : 0))
         .add("n_mel_bins", jint(hp.n_mel_bins))
         .add("warmup_audio_size", jint(hp.warmup_audio_size))
         .add("n_tensors", jnum(n_tensors));
        ctx.add("model", m.str());
    }
    {
        jobj w;
        w.add("image_size", jint(vision ? side : 0))
         .add("default_image_size", jint(vision ? hp.warmup_image_size : 0))
         .add("audio_frames", jint(vision ? 0 : hp.warmup_audio_size))
         .add("n_patches", jint(vision ? (int64_t) (side / hp.patch_size) * (side / hp.patch_size) : 0))
         .add("n_tokens", jint(clip_n_output_tokens(&c, &img)))
         .add("flash_attn", jbool(c.flash_attn_type == CLIP_FLASH_ATTN_TYPE_ENABLED))
         .add("compute_buffers", compute_json(c))
         .add("compute_bytes", jnum(compute_total(c)));
        ctx.add("warmup", w.str());
    }
    {
        std::vector<std::string> rows;
        uint64_t total = 0, nbytes = 0;
        if (c.buf) {
            jobj r;
            const uint64_t sz = ggml_backend_buffer_get_size(c.buf.get());
            r.add("buft", jstr(ggml_backend_buft_name(ggml_backend_buffer_get_type(c.buf.get())))).add("bytes", jnum(sz));
            rows.push_back(r.str());
            total += sz;
        }
        for (auto & [dev, sz] : c.mem_usage) nbytes += sz;
        ctx.add("weight_buffers", jarr(rows)).add("weight_bytes", jnum(total)).add("weight_nbytes_sum", jnum(nbytes));
    }
    {
        // mtmd_get_memory_usage's figure (what llama-server adds to --fit's target per device)
        uint64_t total = 0;
        for (auto & [dev, sz] : clip_get_mem_usage(&c)) total += sz;
        ctx.add("mem_usage_total", jnum(total));
    }
    return ctx;
}

static void usage() {
    fprintf(stderr,
        "usage: oracle_mmproj MMPROJ.gguf [--fa on|off|auto] [--image-min-tokens N] [--image-max-tokens N]\n"
        "       [--load noalloc|alloc] [--image-tokens N | --largest] [--requests] [--verbose]\n");
}

int main(int argc, char ** argv) {
    if (argc < 2) { usage(); return 2; }
    std::string path = argv[1], fa = "auto", load = "noalloc";
    int min_tokens = -1, max_tokens = -1;
    int image_tokens = 0;
    bool largest = false, requests = false;
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
        else if (a == "--largest")          largest = true;
        else if (a == "--requests")         requests = true;
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
         .add("image_tokens", jint(image_tokens)).add("largest", jbool(largest));
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
    // a chosen image replaces the warm-up one; the warm-up is then run per context below
    p.warmup           = image_tokens <= 0 && !largest;
    p.no_alloc         = load == "noalloc";

    clip_init_result res = clip_init(path.c_str(), p);
    if (requests) {
        out.add("requested_tensors", jarr(unique_json(g_req_tensors)))
           .add("requested_keys", jarr(unique_json(g_req_keys)));
    }
    std::vector<clip_ctx *> ctxs;
    for (clip_ctx * c : {res.ctx_v, res.ctx_a}) if (c) ctxs.push_back(c);
    // mtmd_init refuses a file with neither (a gen-audio context alone is not loadable)
    if (ctxs.empty()) {
        out.add("ok", "false").add("error_stage", jstr("clip_init"))
           .add("error", jstr("clip_init returned no vision or audio context")).add("log", jarr(log_json()));
        printf("%s\n", out.str().c_str());
        return 1;
    }
    if (res.ctx_gen_a) ctxs.push_back(res.ctx_gen_a);
    std::vector<jobj> measured;
    for (clip_ctx * c : ctxs) {
        int side = 0;
        if (c->model.modality == CLIP_MODALITY_VISION) {
            const auto & hp = c->model.hparams;
            if (largest) side = largest_side(hp);
            else if (image_tokens > 0) {
                const int side_tokens = (int) std::lround(std::sqrt((double) image_tokens));
                side = side_tokens * hp.patch_size * std::max(1, hp.n_merge);
            }
        }
        measured.push_back(measure(*c, side, p.warmup));
    }
    // the first context's fields at the top level (schema 1 readers)
    for (const auto & [k, v] : measured[0].kv) out.add(k, v);
    std::vector<std::string> all;
    for (const auto & m : measured) all.push_back(m.str());
    out.add("contexts", jarr(all));
    out.add("ok", "true").add("log", jarr(log_json()));
    printf("%s\n", out.str().c_str());
    clip_free(res.ctx_v);
    clip_free(res.ctx_a);
    clip_free(res.ctx_gen_a);
    return 0;
}
