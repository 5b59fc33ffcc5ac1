// Minimal JSON writers shared by oracle.cpp and oracle_mmproj.cpp (no dependency beyond the STL).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>


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
