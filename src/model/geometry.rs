//! What the model layer produces: per-layer attention kind, heads, experts, recurrent state.

use serde::Serialize;

/// How a block mixes tokens, which decides what memory it needs at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    /// Full (global) attention: KV cache over the whole context.
    Attention,
    /// Sliding-window attention: KV cache capped at the window.
    Sliding,
    /// Recurrent / linear attention (Mamba, Gated DeltaNet, RWKV): fixed-size state, no KV.
    Recurrent,
    /// Multi-head latent attention (DeepSeek): one compressed K row per token, no V.
    Mla,
    /// No token mixing found (e.g. a block with only an FFN).
    None,
}

/// Fixed per-sequence state of a recurrent layer, in elements (llama.cpp `n_embd_r`, `n_embd_s`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RecurrentState {
    /// Convolution / token-shift state (`n_embd_r`).
    pub conv_elements: u64,
    /// SSM / delta-rule state (`n_embd_s`).
    pub state_elements: u64,
    /// A third row some layers keep in the same cells, type R (f32): Qwen4-exp's PLE convolution
    /// history (`cache_ple_r_l`, `hparams.ple_conv_state()`) on its one PLE layer. 0 elsewhere.
    #[serde(skip_serializing_if = "is_zero")]
    pub extra_elements: u64,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// A K-only cache with one row per `ratio` tokens (`llama_kv_cache_dsv4`'s compressed caches):
/// `PAD(max(1, ceil(n_ctx_seq / ratio)), 256)` cells per sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CompressedKv {
    /// Tokens per row.
    pub ratio: u64,
    /// Elements per row.
    pub k_width: u64,
}

/// Geometry of one block `blk.N`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerGeometry {
    /// Block index N.
    pub index: u32,
    /// Token-mixing kind.
    pub kind: LayerKind,
    /// Query heads (0 for recurrent layers).
    pub n_head: u64,
    /// KV heads (0 when the layer holds no KV cache).
    pub n_head_kv: u64,
    /// K head dimension (for MLA: the compressed row, kv_lora_rank + rope dims).
    pub head_dim_k: u64,
    /// V head dimension (for MLA: kv_lora_rank; V is not cached separately).
    pub head_dim_v: u64,
    /// Sliding window in tokens, for sliding layers.
    pub window: Option<u64>,
    /// Routed experts in this block (0 for a dense FFN).
    pub n_experts: u64,
    /// Routed experts used per token.
    pub n_experts_used: u64,
    /// Shared (always active) experts.
    pub n_experts_shared: u64,
    /// FFN width of one routed expert (or of the dense FFN).
    pub ffn_size: u64,
    /// Recurrent state, for recurrent layers.
    pub recurrent: Option<RecurrentState>,
    /// A next-token-prediction (MTP) block llama.cpp skips unless asked.
    pub mtp: bool,
    /// llama.cpp gives this layer a KV cache of its own (not a shared or filtered one).
    pub kv_cache: bool,
    /// K and V widths of this layer's row in a sparse-attention indexer cache (DeepSeek-V3.2's
    /// lightning indexer and its kin), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexer: Option<(u64, u64)>,
    /// K-only caches holding one compressed row per `ratio` tokens (DeepSeek-V4's CSA, HCA and
    /// lightning-indexer caches), beside the layer's own cache.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compressed: Vec<CompressedKv>,
    /// llama.cpp keeps this layer's caches one stream per sequence even when the KV cache is
    /// unified (`llama_kv_cache_dsv4`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub kv_per_seq: bool,
    /// Bytes of all tensors in this block.
    pub bytes: u64,
    /// Bytes of the routed-expert tensors in this block.
    pub expert_bytes: u64,
    /// True when all of this block's tensor data is on disk.
    pub present: bool,
}

impl LayerGeometry {
    /// True when llama.cpp gives this layer a KV cache.
    pub fn has_kv(&self) -> bool {
        !self.mtp && self.kv_cache
    }

    /// True when llama.cpp gives this layer recurrent state.
    pub fn has_state(&self) -> bool {
        !self.mtp && self.recurrent.is_some()
    }
}

/// Geometry of a whole model, derived from tensors first and metadata second.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Geometry {
    /// `general.architecture`.
    pub architecture: String,
    /// The gguf-meter module that described it (`qwen35`, `generic`, ...).
    pub family: &'static str,
    /// Blocks llama.cpp runs (block_count minus MTP blocks).
    pub n_layers: u32,
    /// MTP / next-token-prediction blocks appended after them.
    pub n_mtp_layers: u32,
    /// Per-block geometry, MTP blocks last.
    pub layers: Vec<LayerGeometry>,
    /// Hidden size.
    pub n_embd: u64,
    /// Vocabulary size (from token_embd's shape).
    pub n_vocab: u64,
    /// Trained context length.
    pub context_length: u64,
    /// Largest routed-expert count of any block.
    pub n_experts: u64,
    /// Routed experts used per token.
    pub n_experts_used: u64,
    /// Shared experts per MoE block.
    pub n_experts_shared: u64,
    /// Total elements over all tensors.
    pub parameter_count: u64,
    /// Vision tower, for an mmproj (clip) file.
    pub vision: Option<VisionGeometry>,
    /// What could not be derived or looked inconsistent.
    pub warnings: Vec<String>,
    /// Hyperparameters only the compute-graph simulation reads.
    #[serde(skip)]
    pub hints: GraphHints,
    /// Components whose size follows a rule gguf-meter has not verified for this architecture
    /// (e.g. `kv_cache` of a sparse-attention cache): figures for them are estimates.
    pub estimated: Vec<String>,
}

/// Hyperparameters that shape llama.cpp's compute graph but not its weights or caches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphHints {
    /// `{arch}.rope.scaling.finetuned` (default true): Granite models use it as their RoPE
    /// switch (llama.cpp granite-hybrid.cpp `load_arch_hparams`).
    pub rope_finetuned: bool,
    /// `{arch}.expert_gating_func` (0 when absent: the family's default).
    pub expert_gating: u64,
    /// `{arch}.expert_weights_norm` (default false).
    pub expert_weights_norm: bool,
    /// `{arch}.expert_weights_scale` is set to something other than 0 or 1.
    pub expert_weights_scaled: bool,
    /// `{arch}.expert_group_count` and `expert_group_used_count` (0 when absent).
    pub expert_groups: (u64, u64),
    /// Attention runs within the micro-batch, not over the KV cache (embedding / encoder graphs).
    pub attn_no_cache: bool,
    /// The graph ends in embeddings, not logits (BERT-style encoders, llama.cpp's embedding
    /// variants): no LM head.
    pub embeddings_only: bool,
    /// `{arch}.ssm.dt_b_c_rms` (default false): Falcon-Mamba RMS-norms dt, B and C without a
    /// weight (mamba-base.cpp `build_mamba_layer`).
    pub ssm_dt_b_c_rms: bool,
    /// `{arch}.rope.dimension_sections` has its first two sections set: M-RoPE, four
    /// positions per token (llama-hparams.cpp `use_mrope`).
    pub mrope: bool,
    /// Blocks whose routed experts clamp SwiGLU (`{arch}.swiglu_clamp_exp` above 1e-6, a
    /// scalar or per-layer array): silu, clamps and a mul replace the fused GLU.
    pub swiglu_clamp_exp: Vec<bool>,
    /// The same for shared experts (`{arch}.swiglu_clamp_shexp`).
    pub swiglu_clamp_shexp: Vec<bool>,
    /// `{arch}.attn_res.block_size` (0 when absent): Kimi-K3 mixes earlier layers' inputs back
    /// in, banking one every this many blocks.
    pub attn_res_block: u64,
    /// `{arch}.activation.situ_linear_beta` is above 0: the SITU activation also squashes `up`.
    pub situ_linear: bool,
    /// `{arch}.attention.indexer.top_k` (0 when absent): the KV cells a sparse-attention
    /// (DSA) layer's lightning indexer keeps per token.
    pub indexer_top_k: u64,
    /// `{arch}.attention.indexer.block_size` (0 when absent): the positions per block MiniMax-M3's
    /// sparse attention scores and selects.
    pub indexer_block_size: u64,
    /// `{arch}.attention.indexer.kpool` (0 when absent): GLM-5-Next's indexer scores pools of
    /// this many consecutive keys.
    pub indexer_kpool: u64,
    /// `{arch}.attention.indexer.kpool_select_tail`: the incomplete last pool is selected too.
    pub indexer_kpool_tail: bool,
    /// `{arch}.attention.compress_ratios` per block (Qwen4-exp's sparse attention block size; 0:
    /// dense), as `get_key_or_arr` reads it; at most `MAX_BLOCKS` entries.
    pub compress_ratios: Vec<u64>,
    /// `{arch}.ple.ngram_size` (0 when absent): the dilation of Qwen4-exp's PLE convolution.
    pub ple_ngram: u64,
    /// `{arch}.swin_norm` (default false): Chameleon norms after attention and FFN, not before.
    pub swin_norm: bool,
    /// `{arch}.hrm.layers_per_stack`, `hrm.h_cycles` and `hrm.l_cycles` (0 when absent):
    /// HRM-Text runs its two stacks l_cycles + 1 times per h cycle (hrm-text.cpp).
    pub hrm_stacks: (u64, u64, u64),
}

impl GraphHints {
    /// Whether block `il`'s routed experts (`shared` false) or shared expert clamp SwiGLU.
    pub fn swiglu_clamp(&self, il: u32, shared: bool) -> bool {
        let v = if shared { &self.swiglu_clamp_shexp } else { &self.swiglu_clamp_exp };
        v.get(il as usize).copied().unwrap_or(false)
    }
}

/// The vision tower in an mmproj file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VisionGeometry {
    /// `clip.projector_type` (e.g. `qwen3vl_merger`).
    pub projector_type: Option<String>,
    /// Vision transformer blocks (`v.blk.N`).
    pub n_layers: u64,
    /// Vision hidden size.
    pub n_embd: u64,
    /// Output width of the projector: must equal the language model's hidden size.
    pub projection_dim: u64,
    /// Bytes of all tensors.
    pub bytes: u64,
    /// `clip.vision.image_size`: the side the tower was trained at, in pixels.
    pub image_size: u64,
    /// `clip.vision.patch_size`: pixels per patch side.
    pub patch_size: u64,
    /// `clip.vision.attention.head_count`.
    pub n_head: u64,
    /// `clip.vision.feed_forward_length`.
    pub n_ff: u64,
    /// `clip.vision.spatial_merge_size` (patches merged per token side), when given.
    pub spatial_merge: Option<u64>,
    /// Blocks with a Qwen3-VL deepstack branch (`v.deepstack.N.*` tensors).
    pub deepstack_layers: u64,
    /// The encoders mtmd creates from the file (vision, audio), each with its tensors.
    pub encoders: Vec<super::vision::ClipEncoder>,
}
