//! Conversions between ndarray arrays and tch tensors (tch links its own ndarray version,
//! so data crosses as flat slices plus shapes).

use ndarray::{Array, ArrayD, Dimension, IxDyn};
use tch::{Device, Kind, Tensor};

/// An f32 tensor on `device` with the array's shape and values.
pub fn to_tensor<D: Dimension>(a: &Array<f32, D>, device: Device) -> Tensor {
    let shape: Vec<i64> = a.shape().iter().map(|&d| d as i64).collect();
    let t = match a.as_slice() {
        Some(s) => Tensor::from_slice(s),
        None => Tensor::from_slice(&a.iter().copied().collect::<Vec<_>>()),
    };
    t.view(shape.as_slice()).to_device(device)
}

/// The values of a tensor (any float kind, any device) as an f32 array of its shape.
pub fn to_array(t: &Tensor) -> ArrayD<f32> {
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let flat = t
        .to_device(Device::Cpu)
        .to_kind(Kind::Float)
        .contiguous()
        .view([-1]);
    let v = Vec::<f32>::try_from(&flat).expect("float tensor converts to Vec<f32>");
    ArrayD::from_shape_vec(IxDyn(&shape), v).expect("shape of the tensor")
}

/// Number of elements of every variable of a var store.
pub fn parameter_count(vs: &tch::nn::VarStore) -> usize {
    vs.trainable_variables().iter().map(|t| t.numel()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_values_and_shape() {
        let a = ndarray::Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f32);
        let t = to_tensor(&a, Device::Cpu);
        assert_eq!(t.size(), vec![2, 3, 4]);
        assert_eq!(to_array(&t), a.into_dyn());
    }
}
