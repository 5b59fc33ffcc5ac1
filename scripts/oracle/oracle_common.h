// Shared by oracle.cpp and oracle_mmproj.cpp: minimal JSON writers and the llama.cpp build record.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "ggml.h"

// Set by CMakeLists.txt from build.sh; "unknown" when compiled by hand.
#ifndef ORACLE_LLAMA_COMMIT
#define ORACLE_LLAMA_COMMIT "unknown"
#endif
#ifndef ORACLE_SDIST_VERSION
#define ORACLE_SDIST_VERSION "unknown"
#endif


static std::string jstr(const std::string & s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':  o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n";  break;
            case '\r': o += "\\r";  break;
            case '\t': o += "\\t";  break;
            default:
                if (c < 0x20) { char b[8]; snprintf(b, sizeof(b), "\\u%04x", c); o += b; }
                else o += (char) c;
        }
    }
    return o + "\"";
}
static std::string jnum(uint64_t v) { return std::to_string(v); }
static std::string jint(int64_t v)  { return std::to_string(v); }
static std::string jbool(bool b)    { return b ? "true" : "false"; }

struct jobj {
    std::vector<std::pair<std::string, std::string>> kv;
    jobj & add(const std::string & k, const std::string & raw) { kv.emplace_back(k, raw); return *this; }
    std::string str() const {
        std::string o = "{";
        for (size_t i = 0; i < kv.size(); ++i) {
            if (i) o += ",";
            o += jstr(kv[i].first) + ":" + kv[i].second;
        }
        return o + "}";
    }
};
static std::string jarr(const std::vector<std::string> & items) {
    std::string o = "[";
    for (size_t i = 0; i < items.size(); ++i) { if (i) o += ","; o += items[i]; }
    return o + "]";
}

// Which llama.cpp produced the figures (the "llama_cpp" object of every record).
static jobj llama_cpp_build() {
    jobj lc;
    lc.add("commit", jstr(ORACLE_LLAMA_COMMIT))
      .add("source", jstr(std::string("llama-cpp-python==") + ORACLE_SDIST_VERSION + " sdist, vendor/llama.cpp"))
      .add("ggml_version", jstr(ggml_version()));
    return lc;
}
