//! Products with llama.cpp block-format weights: the per-row block dots of every table
//! (`matmul_gguf_with`), and the block-format GEMMs of the AVX2 and AVX-512 VNNI tables on weights
//! re-laid out once at load (`prepare_gguf`, `matmul_gguf_packed`).

#[cfg(target_arch = "x86_64")]
use super::{column_tiles, column_tiles_parts, x86_gguf_gemm, x86_gguf_gemm_avx2, x86_q4k_gemm, Isa};
use super::{matmul_columns, Kernels};
use crate::engine::quant::blocks::{self, ActRow, BlockFormat};
use crate::engine::tensor::Matrix;

/// Token rows a GGUF weight row is dotted with at once.
const GGUF_TILE: usize = 4;

/// llama.cpp block formats: `y[t][o]` is the block dot of weight row `o` (`row_bytes` of `data`) with
/// the activation row `acts[t]`, quantized for the weights' format. Outputs are spread over threads;
/// each weight row meets the token rows four at a time.
pub fn matmul_gguf_with(k: Kernels, acts: &[ActRow], data: &[u8], row_bytes: usize, out_f: usize) -> Matrix {
    matmul_columns(acts.len(), out_f, |o, col| {
        let w = &data[o * row_bytes..(o + 1) * row_bytes];
        let mut tiles = acts.chunks_exact(GGUF_TILE);
        let mut ys = col.chunks_exact_mut(GGUF_TILE);
        for (tile, y) in (&mut tiles).zip(&mut ys) {
            y.copy_from_slice(&k.dot_gguf_rows(w, [&tile[0], &tile[1], &tile[2], &tile[3]]));
        }
        for (x, y) in tiles.remainder().iter().zip(ys.into_remainder()) {
            *y = k.dot_gguf(w, x);
        }
    })
}

/// llama.cpp block rows re-laid out by `prepare_gguf` for a table's GEMM: the same bytes, reordered.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedGguf {
    bytes: Vec<u8>,
    layout: PackedLayout,
}

/// Which GEMM a `PackedGguf` was laid out for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PackedLayout {
    /// 32-weight formats in groups of this many rows (`x86_gguf_gemm::pack`).
    Groups(usize),
    /// Q4_K for `x86_q4k_gemm`.
    Q4K,
}

impl PackedGguf {
    /// Bytes held.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when it holds no bytes (a layer without rows).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Weight row `r` (below the `out_f` rows it was packed from) as ggml's blocks of `format`, `blocks`
    /// of them, written into `out` (`blocks * format.block_bytes()` bytes): the bytes `prepare_gguf` read
    /// for that row. Lets a tied embedding table be read from the packed head, so the file's copy of the
    /// table need not stay resident.
    pub fn row(&self, format: BlockFormat, blocks: usize, r: usize, out: &mut [u8]) {
        match self.layout {
            #[cfg(target_arch = "x86_64")]
            PackedLayout::Groups(group) => x86_gguf_gemm::unpack_row(format, &self.bytes, blocks, group, r, out),
            #[cfg(target_arch = "x86_64")]
            PackedLayout::Q4K => x86_q4k_gemm::unpack_row(&self.bytes, blocks, r, out),
            #[cfg(not(target_arch = "x86_64"))]
            _ => {
                let row_bytes = blocks * format.block_bytes();
                out.copy_from_slice(&self.bytes[r * row_bytes..(r + 1) * row_bytes]);
            }
        }
    }
}

/// Re-lays llama.cpp block rows out for the kernel table: on AVX-512 VNNI, the 32-weight formats' rows
/// are packed for the block-format GEMM and Q4_K rows for its GEMM; on AVX2, Q8_0, Q4_0 and Q4_1 rows for
/// the AVX2 block-format GEMM; `None` where the table dots ggml's rows as they are.
pub fn prepare_gguf(
    k: Kernels,
    format: BlockFormat,
    data: &[u8],
    row_bytes: usize,
    out_f: usize,
) -> Option<PackedGguf> {
    prepare_gguf_releasing(k, format, data, row_bytes, out_f, &mut |_| {})
}

/// `prepare_gguf`, handing `done` the rows already read every few MiB (and the rest at the end) when it
/// packs, so the pages of a mapped file can be given back while a large tensor (a tied 50k-token head)
/// is packed: it is never resident twice. `done` is not called when nothing is packed.
pub fn prepare_gguf_releasing(
    k: Kernels,
    format: BlockFormat,
    data: &[u8],
    row_bytes: usize,
    out_f: usize,
    done: &mut dyn FnMut(&[u8]),
) -> Option<PackedGguf> {
    #[cfg(target_arch = "x86_64")]
    if let Some(group) = block_gemm_group(k, format) {
        return Some(PackedGguf {
            bytes: x86_gguf_gemm::pack(format, data, row_bytes, out_f, group, done),
            layout: PackedLayout::Groups(group),
        });
    }
    #[cfg(target_arch = "x86_64")]
    if k.isa == Isa::Avx512Vnni && format == BlockFormat::Q4K {
        let bytes = x86_q4k_gemm::pack(data, row_bytes, out_f);
        done(data);
        return Some(PackedGguf {
            bytes,
            layout: PackedLayout::Q4K,
        });
    }
    let _ = (k, format, data, row_bytes, out_f, done);
    None
}

/// Rows per group of the 32-weight block-format GEMM of table `k` for `format`, where it has one.
#[cfg(target_arch = "x86_64")]
fn block_gemm_group(k: Kernels, format: BlockFormat) -> Option<usize> {
    match k.isa {
        Isa::Avx512Vnni if x86_gguf_gemm::supports(format) => Some(x86_gguf_gemm::GROUP),
        Isa::Avx2 if x86_gguf_gemm_avx2::supports(format) => Some(x86_gguf_gemm_avx2::GROUP),
        _ => None,
    }
}

/// `matmul_gguf_with` on rows prepared by `prepare_gguf` (`blocks` blocks a row): the GEMM they were laid
/// out for when `k` has it; otherwise (tests) ggml's rows unpacked again and dotted by `k`.
pub fn matmul_gguf_packed(
    k: Kernels,
    format: BlockFormat,
    acts: &[ActRow],
    packed: &PackedGguf,
    blocks: usize,
    out_f: usize,
) -> Matrix {
    #[cfg(target_arch = "x86_64")]
    match packed.layout {
        PackedLayout::Groups(group) if block_gemm_group(k, format) == Some(group) => {
            let mut ys = matmul_gguf_groups(k, format, acts, &[(&packed.bytes, out_f)], blocks, group);
            return ys.pop().unwrap_or_else(|| Matrix::zeros(acts.len(), out_f));
        }
        PackedLayout::Q4K if k.isa == Isa::Avx512Vnni => {
            return matmul_q4k_vnni(acts, &packed.bytes, blocks, out_f);
        }
        _ => {}
    }
    let data = match packed.layout {
        #[cfg(target_arch = "x86_64")]
        PackedLayout::Groups(group) => x86_gguf_gemm::unpack(format, &packed.bytes, blocks, out_f, group),
        #[cfg(target_arch = "x86_64")]
        PackedLayout::Q4K => x86_q4k_gemm::unpack(&packed.bytes, blocks, out_f),
        #[cfg(not(target_arch = "x86_64"))]
        _ => packed.bytes.clone(),
    };
    matmul_gguf_with(k, acts, &data, blocks * format.block_bytes(), out_f)
}

/// `matmul_gguf_packed` for several layers that read the same activation rows (`parts`: each layer's
/// packed rows and output features, all of one format with `blocks` blocks a row). Where the table's GEMM
/// takes them all, the rows are gathered once and every layer's output groups share one parallel pass;
/// otherwise each layer is multiplied on its own.
pub fn matmul_gguf_packed_many(
    k: Kernels,
    format: BlockFormat,
    acts: &[ActRow],
    parts: &[(&PackedGguf, usize)],
    blocks: usize,
) -> Vec<Matrix> {
    #[cfg(target_arch = "x86_64")]
    if let Some(group) = block_gemm_group(k, format) {
        if parts.iter().all(|(p, _)| p.layout == PackedLayout::Groups(group)) {
            let rows: Vec<(&[u8], usize)> = parts.iter().map(|(p, o)| (&p.bytes[..], *o)).collect();
            return matmul_gguf_groups(k, format, acts, &rows, blocks, group);
        }
    }
    parts
        .iter()
        .map(|(p, o)| matmul_gguf_packed(k, format, acts, p, blocks, *o))
        .collect()
}

/// The 32-weight block-format GEMMs of one or more layers (`parts`: packed rows and output features) on
/// the same Q8 activation rows, gathered once (with each block's code sum where the kernel reads it):
/// one task per group of `group` output rows of any layer (16 on VNNI, 8 on AVX2), each writing its
/// columns of its layer's output.
#[cfg(target_arch = "x86_64")]
fn matmul_gguf_groups(
    k: Kernels,
    format: BlockFormat,
    acts: &[ActRow],
    parts: &[(&[u8], usize)],
    blocks: usize,
    group: usize,
) -> Vec<Matrix> {
    let tokens = acts.len();
    let width = blocks * blocks::BLOCK;
    // The VNNI kernel runs whole micro-tiles of 8 rows (zero rows pad the codes to them) and reads the
    // code sums of every offset format; the AVX2 kernel reads the rows it is given and only Q4_0's and
    // Q5_0's offsets.
    let vnni = k.isa == Isa::Avx512Vnni;
    let rows = if vnni {
        tokens.div_ceil(x86_gguf_gemm::TOKENS) * x86_gguf_gemm::TOKENS
    } else {
        tokens
    };
    // What each block's integer sum loses to the codes' offset: `offset * sum(x)`, where a kernel reads
    // codes offset (VNNI: Q8_0 stored as q + 128, Q4_0 and Q5_0 unsigned; AVX2: Q4_0 and Q5_0).
    let offset = match format {
        BlockFormat::Q8_0 if vnni => 128,
        BlockFormat::Q4_0 => 8,
        BlockFormat::Q5_0 => 16,
        _ => 0,
    };
    let mut q = vec![0i8; rows * width];
    let (mut d, mut s) = (Vec::with_capacity(tokens * blocks), Vec::with_capacity(tokens * blocks));
    let mut bias = Vec::with_capacity(if offset != 0 { tokens * blocks } else { 0 });
    for (t, act) in acts.iter().enumerate() {
        let Some(row) = act.q8() else {
            unreachable!("K-quant rows never reach the 32-weight GEMM")
        };
        q[t * width..(t + 1) * width].copy_from_slice(&row.q[..width]);
        d.extend_from_slice(&row.d[..blocks]);
        s.extend_from_slice(&row.s[..blocks]);
        if offset != 0 {
            bias.extend(
                row.q[..width]
                    .chunks_exact(blocks::BLOCK)
                    .map(|c| offset * c.iter().map(|&v| v as i32).sum::<i32>()),
            );
        }
    }
    let a = x86_gguf_gemm::Activations {
        q: &q,
        d: &d,
        s: &s,
        bias: &bias,
        tokens,
        blocks,
    };
    let group_len = blocks * x86_gguf_gemm::stride(format, group);
    let outs: Vec<usize> = parts.iter().map(|&(_, o)| o).collect();
    column_tiles_parts(
        tokens,
        &outs,
        group,
        || (),
        |_, p, o0, cols, out| {
            let rows = &parts[p].0[o0 / group * group_len..(o0 / group + 1) * group_len];
            // SAFETY: block_gemm_group chose this kernel for the table `k`, built only after detecting its
            // features (AVX-512 F/BW/VNNI, or AVX2 + FMA + F16C); each part holds every group of its rows
            // (prepare_gguf padded them); q has whole micro-tiles of rows on VNNI, d/s an entry per
            // (token, block) and sum one wherever the kernel reads it; column_tiles_parts hands out the
            // group's columns of part p's output.
            unsafe {
                if vnni {
                    x86_gguf_gemm::gemm(format, &a, rows, cols, out, outs[p])
                } else {
                    x86_gguf_gemm_avx2::gemm(format, &a, rows, cols, out, outs[p])
                }
            }
        },
    )
}

/// The Q4_K GEMM: Q8_K activation rows gathered into whole micro-tiles, one task per group of 16
/// output rows, each writing its columns of the output.
#[cfg(target_arch = "x86_64")]
fn matmul_q4k_vnni(acts: &[ActRow], packed: &[u8], blocks: usize, out_f: usize) -> Matrix {
    use x86_q4k_gemm::{GROUP, TOKENS};
    let (tokens, width) = (acts.len(), blocks * crate::engine::quant::blocks::q4k::QK_K);
    let mut q = vec![0i8; tokens.div_ceil(TOKENS) * TOKENS * width];
    let mut d = Vec::with_capacity(tokens * blocks);
    let mut sub_sums = Vec::with_capacity(tokens * blocks * 8);
    for (t, act) in acts.iter().enumerate() {
        let ActRow::Q4K(row) = act else {
            unreachable!("only Q8_K rows reach the Q4_K GEMM")
        };
        q[t * width..(t + 1) * width].copy_from_slice(&row.q[..width]);
        d.extend_from_slice(&row.d[..blocks]);
        sub_sums.extend(
            row.bsums[..blocks * 16]
                .chunks_exact(2)
                .map(|p| p[0] as i32 + p[1] as i32),
        );
    }
    let a = x86_q4k_gemm::Activations {
        q: &q,
        d: &d,
        sub_sums: &sub_sums,
        tokens,
        blocks,
    };
    let group_len = blocks * x86_q4k_gemm::STRIDE;
    column_tiles(
        tokens,
        out_f,
        GROUP,
        || (),
        |_, o0, cols, out| {
            let group = &packed[o0 / GROUP * group_len..(o0 / GROUP + 1) * group_len];
            // SAFETY: only the VNNI table reaches here (AVX-512 F/BW/VNNI detected); packed holds every group
            // (prepare_gguf padded them), q has whole micro-tiles of rows, d an entry per (token, super-block)
            // and sub_sums 8; column_tiles hands out the group's columns.
            unsafe { x86_q4k_gemm::gemm(&a, group, cols, out, out_f) };
        },
    )
}
