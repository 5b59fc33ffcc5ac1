use super::*;

fn ty(name: &str) -> GgmlType {
    GgmlType::from_name(name).unwrap()
}

const ALL: [CpuKind; 4] = [CpuKind::X86Avx2, CpuKind::X86Avx512, CpuKind::Arm, CpuKind::None];

fn kinds_repacking(t: &str, dims: &[u64], op: MatOp) -> Vec<CpuKind> {
    ALL.into_iter().filter(|&k| repacks(k, ty(t), dims, op)).collect()
}

#[test]
fn types_per_cpu_kind() {
    use CpuKind::*;
    let m = &[4096, 4096][..];
    assert_eq!(kinds_repacking("Q4_0", m, MatOp::Mat), [X86Avx2, X86Avx512, Arm]);
    assert_eq!(kinds_repacking("Q4_K", m, MatOp::Mat), [X86Avx2, X86Avx512, Arm]);
    assert_eq!(kinds_repacking("IQ4_NL", m, MatOp::Mat), [X86Avx2, X86Avx512, Arm]);
    assert_eq!(kinds_repacking("MXFP4", m, MatOp::Mat), [X86Avx2, X86Avx512, Arm]);
    assert_eq!(kinds_repacking("Q2_K", m, MatOp::Mat), [X86Avx512]);
    for t in ["Q5_K", "Q6_K", "Q8_0", "Q1_0"] {
        assert_eq!(kinds_repacking(t, m, MatOp::Mat), [Arm], "{t}");
    }
    for t in ["F32", "F16", "BF16", "Q4_1", "Q5_0", "Q3_K", "IQ4_XS", "IQ2_XXS"] {
        assert!(kinds_repacking(t, m, MatOp::Mat).is_empty(), "{t}");
    }
}

#[test]
fn row_count_divisibility() {
    // x86 layouts interleave 8 rows; ARM's Q4_0/Q8_0/IQ4_NL/MXFP4 layouts 4, its K-quants 8.
    assert!(!repacks(CpuKind::X86Avx2, ty("Q4_0"), &[4096, 1028], MatOp::Mat));
    assert!(repacks(CpuKind::Arm, ty("Q4_0"), &[4096, 1028], MatOp::Mat));
    assert!(repacks(CpuKind::Arm, ty("Q8_0"), &[4096, 1028], MatOp::Mat));
    assert!(!repacks(CpuKind::Arm, ty("Q4_K"), &[4096, 1028], MatOp::Mat));
    assert!(!repacks(CpuKind::Arm, ty("Q6_K"), &[4096, 1030], MatOp::Mat));
    assert!(repacks(CpuKind::X86Avx2, ty("Q4_K"), &[4096, 1032], MatOp::Mat));
}

#[test]
fn dimensions_must_fit_the_op() {
    let k = CpuKind::X86Avx2;
    // MUL_MAT wants a 2-D weight, MUL_MAT_ID a 3-D one (trailing 1s do not count).
    assert!(repacks(k, ty("Q4_K"), &[2048, 768, 128], MatOp::Id));
    assert!(!repacks(k, ty("Q4_K"), &[2048, 768, 128], MatOp::Mat));
    assert!(!repacks(k, ty("Q4_K"), &[2048, 768], MatOp::Id));
    assert!(repacks(k, ty("Q4_K"), &[2048, 768, 1], MatOp::Mat));
    assert!(!repacks(k, ty("Q4_K"), &[2048, 768, 1], MatOp::Id));
    assert!(!repacks(k, ty("Q4_0"), &[4096], MatOp::Mat));
}

#[test]
fn ops_from_names() {
    assert_eq!(matmul_op("blk.3.attn_q.weight"), Some(MatOp::Mat));
    assert_eq!(matmul_op("blk.17.ffn_down_exps.weight"), Some(MatOp::Id));
    assert_eq!(matmul_op("blk.0.ffn_gate_up_exps.weight"), Some(MatOp::Id));
    assert_eq!(matmul_op("blk.0.ffn_up_shexp.weight"), Some(MatOp::Mat));
    assert_eq!(matmul_op("output.weight"), Some(MatOp::Mat));
    assert_eq!(matmul_op("blk.0.ssm_out.weight"), Some(MatOp::Mat));
    // GET_ROWS, MUL, ADD, SSM_CONV: never a matmul weight.
    for n in ["token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_q.bias", "blk.0.ssm_conv1d.weight", "output_norm.weight", "blk.0.ffn_down_exps.bias"] {
        assert_eq!(matmul_op(n), None, "{n}");
    }
    assert_eq!(matmul_op("blk.x.attn_q.weight"), None);
    assert_eq!(matmul_op("blk..attn_q.weight"), None);
}
