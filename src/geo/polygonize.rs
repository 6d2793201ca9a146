//! Outlines of the valid pixels of a mask as polygons, as GDAL's
//! `GDALPolygonize` (and rasterio's `features.shapes`) draws them with
//! 4-connectedness: one polygon per 4-connected region of valid pixels,
//! with holes for the invalid regions inside it, vertices only where the
//! outline turns, in map coordinates.
//!
//! Pure: a boolean array in, rings out. May use: `geo::affine`.

use std::collections::HashMap;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::affine::Affine;

/// A GeoJSON MultiPolygon: polygons, each an outer ring and its holes,
/// each ring closed (first point repeated last). Outer rings run
/// counter-clockwise and holes clockwise when y grows north (RFC 7946).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiPolygon {
    /// Always `"MultiPolygon"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Polygons → rings → [x, y] points.
    pub coordinates: Vec<Vec<Vec<[f64; 2]>>>,
}

/// A vertex of the pixel grid: (column, row) of a pixel corner.
type Corner = (i64, i64);

/// The directed boundary edges of the valid region: each valid pixel's
/// sides that face an invalid pixel or the outside, oriented so that the
/// valid pixel lies on the right when y grows down (clockwise around a
/// lone pixel).
fn edges(valid: &ArrayView2<bool>) -> Vec<(Corner, Corner)> {
    let (rows, cols) = valid.dim();
    let at = |r: i64, c: i64| {
        r >= 0 && c >= 0 && (r as usize) < rows && (c as usize) < cols && valid[[r as usize, c as usize]]
    };
    let mut out = Vec::new();
    for ((r, c), &v) in valid.indexed_iter() {
        if !v {
            continue;
        }
        let (r, c) = (r as i64, c as i64);
        if !at(r - 1, c) {
            out.push(((c, r), (c + 1, r)));
        }
        if !at(r, c + 1) {
            out.push(((c + 1, r), (c + 1, r + 1)));
        }
        if !at(r + 1, c) {
            out.push(((c + 1, r + 1), (c, r + 1)));
        }
        if !at(r, c - 1) {
            out.push(((c, r + 1), (c, r)));
        }
    }
    out
}

/// Turn from direction `a` to `b`: 1 right, 0 straight, -1 left (y down).
fn turn(a: Corner, b: Corner) -> i64 {
    (a.0 * b.1 - a.1 * b.0).signum()
}

/// Links the edges into closed rings of corners. Where two regions touch
/// at a corner only, the ring turns right, keeping each region's pixels
/// to itself (4-connectedness).
fn rings(edges: Vec<(Corner, Corner)>) -> Vec<Vec<Corner>> {
    let mut from: HashMap<Corner, Vec<usize>> = HashMap::new();
    for (i, (a, _)) in edges.iter().enumerate() {
        from.entry(*a).or_default().push(i);
    }
    let mut used = vec![false; edges.len()];
    let mut out = Vec::new();
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        let mut ring = Vec::new();
        let mut i = start;
        loop {
            used[i] = true;
            let (a, b) = edges[i];
            ring.push(a);
            let dir = (b.0 - a.0, b.1 - a.1);
            let next = from.get(&b).and_then(|cands| {
                cands
                    .iter()
                    .copied()
                    .filter(|&j| !used[j] || j == start)
                    .max_by_key(|&j| {
                        let (c, d) = edges[j];
                        turn(dir, (d.0 - c.0, d.1 - c.1))
                    })
            });
            match next {
                Some(j) if j != start => i = j,
                _ => break,
            }
        }
        out.extend(split_pinches(ring).into_iter().map(simplify));
    }
    out
}

/// Splits a ring that passes through one corner twice into simple rings,
/// as GDAL draws them: a hole that touches its polygon's outline at a
/// corner is a ring of its own, and so is a region that touches another
/// part of itself only at a corner.
fn split_pinches(ring: Vec<Corner>) -> Vec<Vec<Corner>> {
    let mut out = Vec::new();
    let mut stack: Vec<Corner> = Vec::with_capacity(ring.len());
    let mut seen: HashMap<Corner, usize> = HashMap::new();
    for p in ring {
        if let Some(&at) = seen.get(&p) {
            let lp: Vec<Corner> = stack.drain(at..).collect();
            for q in &lp {
                seen.remove(q);
            }
            out.push(lp);
        }
        seen.insert(p, stack.len());
        stack.push(p);
    }
    out.push(stack);
    out
}

/// Drops corners where the ring goes straight on.
fn simplify(ring: Vec<Corner>) -> Vec<Corner> {
    let n = ring.len();
    (0..n)
        .filter(|&k| {
            let (p, c, q) = (ring[(k + n - 1) % n], ring[k], ring[(k + 1) % n]);
            turn((c.0 - p.0, c.1 - p.1), (q.0 - c.0, q.1 - c.1)) != 0
        })
        .map(|k| ring[k])
        .collect()
}

/// Twice the signed area (positive: clockwise when y grows down).
fn area2(ring: &[Corner]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|k| {
            let (a, b) = (ring[k], ring[(k + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Whether the point (x, y) lies inside `ring` (even-odd rule).
fn contains(ring: &[Corner], x: f64, y: f64) -> bool {
    let n = ring.len();
    let mut inside = false;
    for k in 0..n {
        let (a, b) = (ring[k], ring[(k + 1) % n]);
        let (ax, ay, bx, by) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
        if (ay > y) != (by > y) && x < ax + (y - ay) * (bx - ax) / (by - ay) {
            inside = !inside;
        }
    }
    inside
}

/// The outline of the `true` pixels of `valid` (rows, cols), placed by
/// the transform `t` of those pixels.
pub fn polygonize(valid: ArrayView2<bool>, t: &Affine) -> MultiPolygon {
    let all = rings(edges(&valid));
    let (outer, holes): (Vec<_>, Vec<_>) = all.into_iter().filter(|r| r.len() >= 4).partition(|r| area2(r) > 0);
    let mut polygons: Vec<Vec<Vec<Corner>>> = outer.into_iter().map(|r| vec![r]).collect();
    for hole in holes {
        // A pixel centre just inside the hole: left of its first edge.
        let (a, b) = (hole[0], hole[1 % hole.len()]);
        let (dx, dy) = ((b.0 - a.0).signum() as f64, (b.1 - a.1).signum() as f64);
        let (x, y) = (a.0 as f64 + 0.5 * dx + 0.5 * dy, a.1 as f64 + 0.5 * dy - 0.5 * dx);
        let owner = polygons
            .iter_mut()
            .filter(|p| contains(&p[0], x, y))
            .min_by_key(|p| area2(&p[0]));
        if let Some(p) = owner {
            p.push(hole);
        }
    }
    let place = |r: &Vec<Corner>| -> Vec<[f64; 2]> {
        let mut pts: Vec<[f64; 2]> = r
            .iter()
            .map(|&(c, row)| {
                let (x, y) = t.apply(c as f64, row as f64);
                [x, y]
            })
            .collect();
        // Traced with positive area in pixel coordinates; a transform that
        // flips them (north-up: rows run south) would make outer rings turn
        // clockwise, so those are reversed.
        if t.a * t.e - t.b * t.d < 0.0 {
            pts.reverse();
        }
        if let Some(first) = pts.first().copied() {
            pts.push(first);
        }
        pts
    };
    MultiPolygon {
        kind: "MultiPolygon".into(),
        coordinates: polygons.iter().map(|p| p.iter().map(place).collect()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn px(m: &MultiPolygon) -> Vec<Vec<Vec<[f64; 2]>>> {
        m.coordinates.clone()
    }

    /// A square with a hole is one polygon with one hole; two pixels that
    /// touch at a corner are two polygons (4-connectedness).
    #[test]
    fn holes_and_corner_touching_regions() {
        let ring = array![[true, true, true], [true, false, true], [true, true, true]];
        let id = Affine::from_gdal([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let m = polygonize(ring.view(), &id);
        assert_eq!(m.coordinates.len(), 1);
        assert_eq!(m.coordinates[0].len(), 2, "{:?}", px(&m));
        assert_eq!(m.coordinates[0][0].len(), 5);
        assert_eq!(m.coordinates[0][1].len(), 5);
        let diag = array![[true, false], [false, true]];
        let m = polygonize(diag.view(), &id);
        assert_eq!(m.coordinates.len(), 2, "{:?}", px(&m));
        assert!(m.coordinates.iter().all(|p| p.len() == 1 && p[0].len() == 5));
        assert!(polygonize(array![[false]].view(), &id).coordinates.is_empty());
    }
}
