//! How a Linear's weights are stored: the schemes users name, the integer (int8/int4) and AWQ
//! quantizers, and llama.cpp's block formats.

pub mod awq;
pub mod blocks;
pub mod integer;
pub mod scheme;
