/// Overall equipment effectiveness in percent: a finite number from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Efficiency(f64);

impl Efficiency {
    /// `None` is what a JavaScript NaN or an empty form field becomes on its way here.
    pub fn parse(raw: Option<f64>) -> Result<Self, String> {
        match raw {
            None => Err("Efficiency is required: a number from 0 to 100".into()),
            Some(value) if !value.is_finite() => {
                Err("Efficiency must be a finite number from 0 to 100".into())
            }
            Some(value) if !(0.0..=100.0).contains(&value) => Err(format!(
                "Efficiency must be from 0 to 100 percent (got {value})"
            )),
            // -0.0 is in range but would print as "-0": store a plain zero.
            Some(value) => Ok(Self(value + 0.0)),
        }
    }
    pub fn value(self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_non_finite() {
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -5.0,
            250.0,
            -0.001,
            100.0001,
        ] {
            assert!(Efficiency::parse(Some(bad)).is_err(), "{bad}");
        }
        assert!(Efficiency::parse(None).is_err());
        for good in [0.0, 100.0, 85.5] {
            assert_eq!(
                Efficiency::parse(Some(good)).map(Efficiency::value),
                Ok(good)
            );
        }
        let zero = Efficiency::parse(Some(-0.0)).map(Efficiency::value);
        assert_eq!(zero.map(f64::is_sign_positive), Ok(true));
    }
}
