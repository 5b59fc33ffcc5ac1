//! The llama-server command line for a fit plan.

use super::fit::Plan;
use super::overrides::Overrides;
use super::settings::Settings;

/// `s` as one shell word: as is when it is plain, else single-quoted.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.,=/+:@%".contains(c));
    if plain { s.to_string() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

/// The llama-server command line for a plan. `model` and `mmproj` are the flags that say where
/// the files are (`-m path`, or `-mu URL` / `-hf repo -hff file` for remote ones). The user's
/// `-ot` values come before `--n-cpu-moe`, so that they win as they did in the plan.
pub fn command_line(model: &str, p: &Plan, s: &Settings, mmproj: Option<&str>, ov: &Overrides) -> String {
    let r = &p.footprint.resolved;
    let mut c = format!("llama-server {model} -c {}", r.n_ctx);
    if let Some(np) = s.parallel {
        c += &format!(" -np {np}");
        if s.kv_unified {
            c += " -kvu";
        }
    }
    let o = p.split.offload;
    c += &format!(" -ngl {}", o.n_gpu_layers);
    if let Some(ts) = &p.tensor_split {
        c += &format!(" -ts {}", ts.iter().map(u64::to_string).collect::<Vec<_>>().join(","));
    }
    for v in &ov.given {
        c += &format!(" -ot {}", shell_word(v));
    }
    if o.n_cpu_moe > 0 {
        c += &format!(" --n-cpu-moe {}", o.n_cpu_moe);
    }
    c += if r.flash_attn { " -fa on" } else { " -fa off" };
    if r.type_k.name() != "F16" {
        c += &format!(" -ctk {}", r.type_k.name().to_lowercase());
    }
    if r.type_v.name() != "F16" {
        c += &format!(" -ctv {}", r.type_v.name().to_lowercase());
    }
    if r.n_ubatch != 512 {
        c += &format!(" -ub {}", r.n_ubatch);
    }
    if let Some(mm) = mmproj {
        c += &format!(" {mm}");
    }
    c + " --fit off"
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn patterns_are_quoted_for_a_shell() {
        assert_eq!(shell_word("exps=CPU"), "exps=CPU");
        assert_eq!(shell_word(r"blk\.(0|1)\.ffn=CPU"), r"'blk\.(0|1)\.ffn=CPU'");
        assert_eq!(shell_word("a'b=CPU"), r"'a'\''b=CPU'");
    }
}
