//! `coercive bench solver`: seconds per demagnetisation curve.
