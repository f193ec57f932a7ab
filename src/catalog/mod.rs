//! The catalog: products per merchant, their import from CSV, JSON and Polar exports, their
//! embeddings, and hybrid search (pgvector and Postgres full-text search fused by reciprocal
//! rank fusion). docs/catalog.md describes the formats and the behaviour.

pub mod cli;
pub mod csv;
pub mod eval;
pub mod import;
pub mod indexer;
pub mod json_stream;
pub mod product;
pub mod query;
pub mod rank;
pub mod search;
pub mod spelling;
