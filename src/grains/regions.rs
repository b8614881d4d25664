//! Grains of imported rasters: 4-connected regions of equal key.

/// 4-connected regions of equal key on an nx × ny raster (c = j·nx + i), numbered in order
/// of their first cell; also the first cell of each region.
pub(crate) fn connected<K: PartialEq>(nx: usize, ny: usize, key: &[K]) -> (Vec<u32>, Vec<usize>) {
    const NONE: u32 = u32::MAX;
    let mut id = vec![NONE; nx * ny];
    let mut firsts = Vec::new();
    let mut stack = Vec::new();
    for start in 0..nx * ny {
        if id[start] != NONE {
            continue;
        }
        let g = firsts.len() as u32;
        firsts.push(start);
        id[start] = g;
        stack.push(start);
        while let Some(c) = stack.pop() {
            let (i, j) = (c % nx, c / nx);
            let mut visit = |n: usize| {
                if id[n] == NONE && key[n] == key[start] {
                    id[n] = g;
                    stack.push(n);
                }
            };
            if i > 0 {
                visit(c - 1);
            }
            if i + 1 < nx {
                visit(c + 1);
            }
            if j > 0 {
                visit(c - nx);
            }
            if j + 1 < ny {
                visit(c + nx);
            }
        }
    }
    (id, firsts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grains_regions_split_equal_keys_that_do_not_touch() {
        // 3 × 2:  row j=0: a b a ; row j=1: a b b
        let key = ['a', 'b', 'a', 'a', 'b', 'b'];
        let (id, firsts) = connected(3, 2, &key);
        assert_eq!(id, vec![0, 1, 2, 0, 1, 1]);
        assert_eq!(firsts, vec![0, 1, 2]);
    }
}
