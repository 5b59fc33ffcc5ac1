//! llama.cpp's flag spellings. llama-server takes multi-letter flags after one dash (`-ngl 20`,
//! `-np 4`, `-ctk q8_0`), which clap cannot define (its short flags are one letter: `-ngl`
//! would be `-n -g -l`). One table says what each such spelling means; from it, the command
//! line is normalised before clap reads it (exactly these spellings, as whole arguments, map to
//! their long flag) and `--help` shows each spelling next to the flag it means. The long flags
//! themselves, and their llama-server aliases, are ordinary clap definitions (runtime.rs).

use std::ffi::OsString;

/// llama-server's single-dash spellings and the long flag (without `--`) each stands for.
pub const LLAMA_SPELLINGS: &[(&str, &str)] = &[
    ("-ngl", "n-gpu-layers"),
    ("-np", "parallel"),
    ("-ctk", "cache-type-k"),
    ("-ctv", "cache-type-v"),
    ("-fa", "flash-attn"),
    ("-ot", "override-tensor"),
    ("-ts", "tensor-split"),
    ("-ub", "ubatch-size"),
    ("-kvu", "kv-unified"),
    ("-ncmoe", "n-cpu-moe"),
    ("-cmoe", "cpu-moe"),
    ("-mg", "main-gpu"),
    ("-lm", "load-mode"),
    ("-nkvo", "no-kv-offload"),
    ("-sm", "split-mode"),
];

/// The arguments with llama-server's single-dash spellings replaced by their long flags.
/// Only whole arguments are replaced, and nothing after `--`.
pub fn normalise(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut rest = false;
    args.into_iter()
        .map(|a| {
            if rest {
                return a;
            }
            if a == "--" {
                rest = true;
                return a;
            }
            match LLAMA_SPELLINGS.iter().find(|(short, _)| a == *short) {
                Some((_, long)) => format!("--{long}").into(),
                None => a,
            }
        })
        .collect()
}

/// The command-line definition with every flag's llama-server spelling at the front of its help.
pub fn decorate(mut cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |mut sub| {
            for (short, long) in LLAMA_SPELLINGS {
                let found = sub.get_arguments().find(|a| a.get_long() == Some(*long)).map(|a| (a.get_id().clone(), a.get_help().map(|h| h.to_string())));
                if let Some((id, help)) = found {
                    let help = format!("{short}: {}", help.unwrap_or_default());
                    sub = sub.mut_arg(id, |a| a.help(help));
                }
            }
            sub
        });
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_become_long_flags_but_values_after_double_dash_do_not() {
        let args = ["gguf-meter", "fit", "m.gguf", "-ngl", "20", "-np", "2", "-c", "8K", "--", "-fa"].map(OsString::from);
        let out: Vec<String> = normalise(args).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(out, ["gguf-meter", "fit", "m.gguf", "--n-gpu-layers", "20", "--parallel", "2", "-c", "8K", "--", "-fa"]);
    }
}
