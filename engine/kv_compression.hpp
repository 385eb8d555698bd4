#pragma once
/// @file kv_compression.hpp
/// @brief KV-cache compression and attention variants (the paper's Section 3, Table 2) as knobs on the cost model.
///
/// Each knob says in which phase it acts. "Both" means the method shapes the KV as it is written, so prefill
/// FLOPs and bytes change too; "after prefill" means the prefill step still computes and writes the full KV and
/// the method shrinks it once the step is done, so only later steps (decode, follow-up prefills that read the
/// cache), the resident KV (concurrency) and swaps (context switching) see it. Every knob at its default is the
/// identity: a default KvCompression leaves every cost exactly as the uncompressed model's.

#include <string>
#include <vector>

namespace kvsim {

struct ModelSpec;

/// @brief The composable knobs. Fractions are of the model's layers, heads or tokens.
struct KvCompression {
  // Layer dimension.
  double layer_skip_fraction = 0;  ///< CALM/LayerSkip: layers not run (both phases): FLOPs, weight reads, KV x (1-s)
  double yoco_window = 0;  ///< YOCO (both phases), 0 = off: half the layers are a self-decoder with a sliding window
                           ///< of this many tokens, the other half share one global KV; prefill runs the
                           ///< cross-decoder for the last prompt token only
  double kv_layer_fraction = 1;  ///< cross-layer KV sharing (both phases): fraction of full-attention layers that
                                 ///< store KV; the others attend to a stored layer's, so FLOPs and reads stay
  // Head dimension.
  double head_keep_after_prefill = 1;  ///< Voita et al., retrieval heads: KV heads kept once prefill is done
  // Token dimension.
  double token_keep_after_prefill = 1;  ///< H2O, FastGen: tokens kept once prefill is done
  double token_merge_ratio = 1;         ///< DMC (both phases): tokens merged into one KV entry as they are written
  double decode_read_fraction = 1;      ///< SnapKV (decode only): decode reads this fraction of the stored KV
  // Hidden dimension (both phases).
  int kv_bits = 0;                       ///< KIVI: KV element bits (16, 8, 4, 2); 0 = the model's kv_dtype
  int kv_group_size = 0;                 ///< KIVI: elements per quantization group, each group storing an fp16
                                         ///< scale and zero point (4 bytes); 0 = no per-group metadata
  double dequant_flops_per_element = 0;  ///< FLOPs per KV element read, to dequantize it
  double low_rank_ratio = 1;             ///< low-rank KV: stored width / original width
  // Attention variants (both phases).
  double window = 0;                 ///< sliding-window attention: tokens each query sees; 0 = full attention
  double window_layer_fraction = 1;  ///< layers that use the window (Mistral: all)
  double linear_layer_fraction = 0;  ///< linear/state-space layers: constant state, no KV growth
  // Speculative decoding (decode only).
  int draft_tokens = 0;        ///< TriForce: tokens the draft proposes per target step (k); 0 = off
  double acceptance = 0;       ///< probability the target accepts each drafted token
  double draft_params = 0;     ///< draft model parameters (bf16, resident in HBM); 0 = self-draft with target weights
  double draft_kv_tokens = 0;  ///< tokens of target-shaped KV the draft holds per session (and reads per step)
  // Weights and conditional computation (both phases).
  int weight_bits = 0;              ///< WKVQuant: weight bits (8, 4); 0 = the model's weights_dtype
  double heavy_token_fraction = 1;  ///< CoLT5: tokens routed through the heavy branch (attention and MLP)
  double light_branch_cost = 0;     ///< CoLT5: per-token cost of the light branch, as a fraction of a full layer
};

/// @brief One knob's key below `model.kv_compression` and its field (exactly one of `real` and `integer` is set).
struct KnobField {
  const char* key;
  double KvCompression::* real = nullptr;
  int KvCompression::* integer = nullptr;
};

/// @brief Every knob, in schema order: the one list the scenario reader and the run overrides share.
const std::vector<KnobField>& knob_fields();

/// @brief Reads one knob's value from `c` as a double.
double knob_value(const KvCompression& c, const KnobField& f);

/// @brief True when every knob is at its identity value.
bool is_identity(const KvCompression& c);

/// @brief Checks ranges and exclusive combinations; empty string or "key: message" naming the bad knob.
std::string validate_compression(const KvCompression& c);

/// @brief KV bytes per token of one layer as written during prefill: the model's K/V (or MLA latent) width,
/// after quantization, low rank, merging and conditional routing; before any after-prefill pruning.
double layer_kv_bytes_written(const ModelSpec& m);

/// @brief The same once prefill is done: head and token pruning applied.
double layer_kv_bytes_kept(const ModelSpec& m);

/// @brief Bytes of one linear/state-space layer's constant state per session (one head_dim x head_dim matrix per
/// query head, in the KV element type).
double linear_state_bytes(const ModelSpec& m);

/// @brief Layers whose KV grows with every token for the whole context (full attention, or YOCO's global KV).
double growing_kv_layers(const ModelSpec& m);

/// @brief Resident KV of one session holding `tokens` of context. `after_prefill` selects the kept size (what the
/// ledger, concurrency and swaps see) or the written size (the peak while the prefill step runs).
double session_kv_bytes(const ModelSpec& m, double tokens, bool after_prefill);

/// @brief One sequence's share of a forward step: a chunk of its prefill, or a generation step.
///
/// A prefill may be split into chunks (chunked prefill); `prefill_done` and `prefill_ends` say where a chunk sits
/// in its prefill, so that its FLOPs are its share of the whole prefill's and any chunking sums to one chunk's.
struct SeqWork {
  double new_tokens = 0;     ///< tokens this step runs for the sequence
  double cached_tokens = 0;  ///< tokens already in its KV cache
  bool decode = false;       ///< a generation step (it sees the kept cache); otherwise a prefill chunk
  double prefill_done = 0;   ///< prefill chunk: tokens of the same prefill that earlier chunks ran (the last ones of
                             ///< `cached_tokens`); 0 for a first chunk or a whole prefill
  bool prefill_ends = true;  ///< prefill chunk: the prefill's last (YOCO's cross-decoder runs there only)
};

/// @brief One sequence's share of a forward step, before tensor parallelism: FLOPs and KV bytes moved.
struct SeqTerms {
  double dense_flops = 0;      ///< 2 x active params x tokens run, over the layers that run them
  double attention_flops = 0;  ///< the context term, per layer kind
  double kv_bytes = 0;         ///< KV read plus KV written, per layer kind
};

/// @brief The terms of `w.new_tokens` attending to `w.cached_tokens`. A decode step sees the kept cache (SnapKV's
/// read fraction applies). `causal` counts each new token against the tokens up to it, so chunks of a prefill
/// add up to the whole by construction. Otherwise (the paper's Eq. 7) each prompt token is counted against the
/// whole prompt: a prefill of n tokens on b cached ones costs n x (b + n) key-query pairs, and a chunk is charged
/// that count's growth, its own queries against every key so far plus the earlier chunks' queries against its
/// keys. Either way a prefill's FLOPs do not depend on its chunking; its KV bytes do (each chunk reads the cache
/// again), and so does KIVI's dequantization, which is charged per element read.
SeqTerms seq_terms(const ModelSpec& m, const SeqWork& w, bool causal);

/// @brief Fraction of the weight bytes a step reads: skipped layers are not read; quantized weights are smaller.
double weight_read_factor(const ModelSpec& m);

/// @brief Bytes per element of the weights after `weight_bits`.
double weight_element_bytes(const ModelSpec& m);

/// @brief One draft step of speculative decoding for a sequence with `cached_tokens` of context: FLOPs, and the
/// KV it reads; the draft's weight bytes are `draft_weight_read_bytes`.
SeqTerms draft_terms(const ModelSpec& m, double cached_tokens);

/// @brief Weight bytes one draft step reads: the draft's (bf16), or the target's for a self-draft.
double draft_weight_read_bytes(const ModelSpec& m);

/// @brief Expected tokens a target step yields with speculative decoding: (1 - a^(k+1)) / (1 - a)
/// (Leviathan et al., 2023); 1 when speculation is off.
double tokens_per_target_step(const KvCompression& c);

}  // namespace kvsim
