//! The assertion macros cases use: they return `CaseError::Failed` with the place and the
//! values, never panic (a panic would abort a whole Worker run).

/// Fails the case unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::CaseError::Failed(format!("{}:{}: {}", file!(), line!(), format!($($msg)+))));
        }
    };
}

/// Fails the case unless `left == right`, showing both.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($msg:tt)+) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err($crate::CaseError::Failed(format!(
                "{}:{}: {}\n  left:  {:?}\n  right: {:?}",
                file!(), line!(), format!($($msg)+), left, right
            )));
        }
    }};
}

/// Fails the case unless `result` is an error of `kind`; evaluates to the error.
macro_rules! ensure_err {
    ($result:expr, $kind:expr, $($msg:tt)+) => {
        match $result {
            Err(error) if error.kind() == $kind => error,
            Err(error) => {
                return Err($crate::CaseError::Failed(format!(
                    "{}:{}: {}: expected {:?}, got error {}", file!(), line!(), format!($($msg)+), $kind, error
                )));
            }
            Ok(value) => {
                return Err($crate::CaseError::Failed(format!(
                    "{}:{}: {}: expected {:?}, got Ok({:?})", file!(), line!(), format!($($msg)+), $kind, value
                )));
            }
        }
    };
}

/// Evaluates to the value inside `option`, or fails the case.
macro_rules! ensure_some {
    ($option:expr, $($msg:tt)+) => {
        match $option {
            Some(value) => value,
            None => {
                return Err($crate::CaseError::Failed(format!("{}:{}: {}: got None", file!(), line!(), format!($($msg)+))));
            }
        }
    };
}
