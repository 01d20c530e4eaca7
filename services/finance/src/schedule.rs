//! Amortization in integer minor units, exactly as bank.finance.v1 documents
//! it (P = principal, n = term in months, b = annual rate in basis points,
//! r = b / 120,000 per month):
//!
//! - Level payment A = floor(P * r / (1 - (1 + r)^-n)), computed exactly
//!   with big integers as floor(P * b * (120,000 + b)^n /
//!   (120,000 * ((120,000 + b)^n - 120,000^n))); A = floor(P / n) when b = 0.
//! - interest_k = floor(outstanding_{k-1} * b / 120,000) (rounded down, in
//!   the member's favour); for k < n payment_k = A and principal_k = A -
//!   interest_k; the last installment absorbs every rounding remainder:
//!   principal_n = outstanding_{n-1}, payment_n = principal_n + interest_n.
//! - A schedule with a zero or negative payment or principal part is not
//!   representable and is refused.
//!
//! Also the due dates (k months after the disbursement date, clamped to the
//! month's last day) and the allocation of a repayment to installments (in
//! due order; within each, interest first, then principal).

use chrono::{Months, NaiveDate};
use num_bigint::BigUint;

/// Basis points per year times months per year: r = b / this.
pub const RATE_DENOMINATOR: i64 = 120_000;

/// One scheduled installment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Installment {
    /// 1..=n.
    pub number: i32,
    /// principal + interest, > 0.
    pub payment: i64,
    /// Principal part, > 0.
    pub principal: i64,
    /// Interest part, >= 0.
    pub interest: i64,
    /// Principal outstanding after this installment, >= 0 (0 after the last).
    pub balance_after: i64,
}

/// A loan's whole schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The level payment A of installments 1..n-1.
    pub level_payment: i64,
    /// Installments 1..=n.
    pub installments: Vec<Installment>,
    /// Sum of the interest parts.
    pub total_interest: i64,
}

impl Schedule {
    /// principal + total interest = the sum of every payment.
    pub fn total_payable(&self) -> i64 {
        self.installments.iter().map(|i| i.payment).sum()
    }
}

/// Why no schedule exists for some terms.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The inputs are outside their documented ranges.
    #[error("terms out of range: {0}")]
    OutOfRange(&'static str),
    /// The schedule would contain a zero or negative payment or principal.
    #[error("installment {0} would have a zero or negative payment or principal part")]
    NotRepresentable(i32),
}

/// The level payment A, exactly (see the module comment).
pub fn level_payment(principal: i64, annual_rate_bps: i32, term_months: i32) -> Result<i64, ScheduleError> {
    let p = u64::try_from(principal).map_err(|_| ScheduleError::OutOfRange("principal"))?;
    let b = u64::try_from(annual_rate_bps).map_err(|_| ScheduleError::OutOfRange("annual_rate_bps"))?;
    let n = u32::try_from(term_months).map_err(|_| ScheduleError::OutOfRange("term_months"))?;
    if p == 0 || n == 0 {
        return Err(ScheduleError::OutOfRange("principal and term must be positive"));
    }
    if b == 0 {
        return Ok(principal / i64::from(term_months));
    }
    let denominator = RATE_DENOMINATOR.unsigned_abs();
    let grown = BigUint::from(denominator + b).pow(n);
    let base = BigUint::from(denominator).pow(n);
    // grown > base because b > 0 and n > 0.
    let numerator = BigUint::from(p) * BigUint::from(b) * &grown;
    let divisor = BigUint::from(denominator) * (grown - base);
    let payment = numerator / divisor;
    i64::try_from(&payment).map_err(|_| ScheduleError::OutOfRange("level payment overflows"))
}

/// The full schedule of `principal` at `annual_rate_bps` over `term_months`.
pub fn schedule(principal: i64, annual_rate_bps: i32, term_months: i32) -> Result<Schedule, ScheduleError> {
    if !(0..=crate::domain::RATE_MAX_BPS).contains(&annual_rate_bps) {
        return Err(ScheduleError::OutOfRange("annual_rate_bps"));
    }
    if !(1..=crate::domain::TERM_MAX_MONTHS).contains(&term_months) {
        return Err(ScheduleError::OutOfRange("term_months"));
    }
    if !(1..=crate::domain::AMOUNT_MAX_MINOR).contains(&principal) {
        return Err(ScheduleError::OutOfRange("principal"));
    }
    let a = level_payment(principal, annual_rate_bps, term_months)?;
    let rate = i128::from(annual_rate_bps);
    let mut outstanding = principal;
    let mut installments = Vec::with_capacity(usize::try_from(term_months).unwrap_or(0));
    let mut total_interest: i64 = 0;
    for number in 1..=term_months {
        // outstanding <= 10^12 and rate <= 10^4: the product fits easily.
        let interest = i64::try_from(i128::from(outstanding) * rate / i128::from(RATE_DENOMINATOR))
            .map_err(|_| ScheduleError::OutOfRange("interest overflows"))?;
        let principal_part = if number < term_months {
            a - interest
        } else {
            outstanding
        };
        let payment = principal_part + interest;
        if principal_part <= 0 || payment <= 0 || principal_part > outstanding {
            return Err(ScheduleError::NotRepresentable(number));
        }
        outstanding -= principal_part;
        if number < term_months && outstanding == 0 {
            // The next installment would have no principal left to repay.
            return Err(ScheduleError::NotRepresentable(number + 1));
        }
        total_interest += interest;
        installments.push(Installment {
            number,
            payment,
            principal: principal_part,
            interest,
            balance_after: outstanding,
        });
    }
    debug_assert_eq!(outstanding, 0);
    debug_assert_eq!(
        installments.iter().map(|i| i.payment).sum::<i64>(),
        principal + total_interest
    );
    Ok(Schedule {
        level_payment: a,
        installments,
        total_interest,
    })
}

/// The due date of installment `number`: that many months after
/// `disbursed`, on the same day or the month's last day when it is shorter.
pub fn due_date(disbursed: NaiveDate, number: i32) -> Option<NaiveDate> {
    disbursed.checked_add_months(Months::new(u32::try_from(number).ok()?))
}

/// What an installment owes and has been paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    /// Scheduled payment.
    pub payment: i64,
    /// Scheduled interest part (paid before the principal part).
    pub interest: i64,
    /// Paid so far, 0..=payment.
    pub paid: i64,
}

/// How a repayment is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// The amount added to each touched installment: (index, amount).
    pub per_installment: Vec<(usize, i64)>,
    /// Applied to interest.
    pub interest: i64,
    /// Applied to principal.
    pub principal: i64,
}

/// The outstanding amount of `dues`.
pub fn outstanding(dues: &[Due]) -> i64 {
    dues.iter().map(|d| d.payment - d.paid).sum()
}

/// Applies `amount` to `dues` in due order, interest first within each
/// installment. `Err(outstanding)` when `amount` exceeds what is owed.
pub fn allocate(dues: &[Due], amount: i64) -> Result<Allocation, i64> {
    let owed = outstanding(dues);
    if amount <= 0 || amount > owed {
        return Err(owed);
    }
    let mut left = amount;
    let mut allocation = Allocation {
        per_installment: Vec::new(),
        interest: 0,
        principal: 0,
    };
    for (index, due) in dues.iter().enumerate() {
        if left == 0 {
            break;
        }
        if due.paid >= due.payment {
            continue;
        }
        let interest_paid = due.paid.min(due.interest);
        let principal_paid = due.paid - interest_paid;
        let to_interest = left.min(due.interest - interest_paid);
        left -= to_interest;
        let to_principal = left.min(due.payment - due.interest - principal_paid);
        left -= to_principal;
        allocation.interest += to_interest;
        allocation.principal += to_principal;
        if to_interest + to_principal > 0 {
            allocation.per_installment.push((index, to_interest + to_principal));
        }
    }
    debug_assert_eq!(left, 0);
    debug_assert_eq!(allocation.interest + allocation.principal, amount);
    Ok(allocation)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), so the property
    /// tests are reproducible without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn range(&mut self, low: i64, high: i64) -> i64 {
            let span = u64::try_from(high - low + 1).expect("span");
            low + i64::try_from(self.next() % span).expect("fits")
        }
    }

    /// The exact level payment by the defining inequality: A is the largest
    /// integer with A * (1 - (1 + r)^-n) <= P * r, i.e.
    /// A * 120000 * (G - B) <= P * b * G with G = (120000 + b)^n, B = 120000^n.
    fn is_floor(principal: i64, b: i32, n: i32, a: i64) -> bool {
        let d = 120_000u64;
        let g = BigUint::from(d + u64::try_from(b).expect("b")).pow(u32::try_from(n).expect("n"));
        let base = BigUint::from(d).pow(u32::try_from(n).expect("n"));
        let lhs = |a: u64| BigUint::from(a) * BigUint::from(d) * (&g - &base);
        let rhs =
            BigUint::from(u64::try_from(principal).expect("p")) * BigUint::from(u64::try_from(b).expect("b")) * &g;
        let a = u64::try_from(a).expect("a");
        lhs(a) <= rhs && lhs(a + 1) > rhs
    }

    fn check(principal: i64, b: i32, n: i32) {
        match schedule(principal, b, n) {
            Ok(s) => {
                assert_eq!(s.installments.len(), usize::try_from(n).expect("n"));
                let mut outstanding = principal;
                for (k, i) in s.installments.iter().enumerate() {
                    assert!(
                        i.payment > 0 && i.principal > 0 && i.interest >= 0,
                        "{principal} {b} {n}: {i:?}"
                    );
                    assert_eq!(i.payment, i.principal + i.interest);
                    assert_eq!(
                        i.interest,
                        outstanding * i64::from(b) / RATE_DENOMINATOR,
                        "interest rounds down"
                    );
                    if k + 1 < s.installments.len() {
                        assert_eq!(i.payment, s.level_payment, "installments before the last are level");
                    }
                    outstanding -= i.principal;
                    assert_eq!(i.balance_after, outstanding);
                }
                assert_eq!(outstanding, 0, "the last installment absorbs the remainder");
                assert_eq!(s.total_payable(), principal + s.total_interest, "sums exactly");
                assert_eq!(s.total_interest, s.installments.iter().map(|i| i.interest).sum::<i64>());
                if b > 0 {
                    assert!(is_floor(principal, b, n, s.level_payment), "{principal} {b} {n}");
                } else {
                    assert_eq!(s.level_payment, principal / i64::from(n));
                }
            }
            Err(ScheduleError::NotRepresentable(_)) => {
                // Only refused when a payment or principal part would be <= 0.
                let a = level_payment(principal, b, n).expect("level payment");
                let first_interest = principal * i64::from(b) / RATE_DENOMINATOR;
                assert!(
                    n > 1 && (a - first_interest <= 0 || a * i64::from(n - 1) >= principal || a == 0),
                    "refused without cause: {principal} {b} {n} (A = {a})"
                );
            }
            Err(e) => panic!("{principal} {b} {n}: {e}"),
        }
    }

    #[test]
    fn known_schedules() {
        // 1,000.00 at 12 % over 12 months: the textbook 88.85 payment.
        let s = schedule(100_000, 1_200, 12).expect("schedule");
        assert_eq!(s.level_payment, 8_884);
        assert_eq!(s.installments[0].interest, 1_000);
        assert_eq!(s.installments[0].principal, 7_884);
        assert_eq!(s.total_payable(), 100_000 + s.total_interest);
        // Zero interest: floor(P / n), the last takes the remainder.
        let s = schedule(1_000, 0, 3).expect("schedule");
        assert_eq!(
            s.installments.iter().map(|i| i.payment).collect::<Vec<_>>(),
            [333, 333, 334]
        );
        assert_eq!(s.total_interest, 0);
        // One installment: principal plus one month of interest.
        let s = schedule(50_000, 600, 1).expect("schedule");
        assert_eq!(s.installments[0].payment, 50_250);
        // Too small to spread: a zero payment would be needed.
        assert_eq!(schedule(2, 0, 3), Err(ScheduleError::NotRepresentable(1)));
        // Interest eats the level payment: no principal in installment 1.
        assert!(matches!(
            schedule(1, 10_000, 480),
            Err(ScheduleError::NotRepresentable(_))
        ));
        // At 100 % a year over 40 years the level payment rounds down to
        // the first month's interest: no principal would ever be repaid.
        assert!(matches!(
            schedule(1_000_000_000_000, 10_000, 480),
            Err(ScheduleError::NotRepresentable(1))
        ));
        // The largest loan over the longest term fits in i64.
        let s = schedule(1_000_000_000_000, 2_500, 480).expect("largest");
        assert_eq!(s.total_payable(), 1_000_000_000_000 + s.total_interest);
        assert!(schedule(0, 100, 12).is_err());
        assert!(schedule(100, -1, 12).is_err());
        assert!(schedule(100, 100, 481).is_err());
    }

    #[test]
    fn property_schedules_sum_exactly_and_never_go_negative() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..4_000 {
            // Spread principals over every magnitude, from 1 to 10^12.
            let digits = rng.range(0, 12);
            let principal = rng.range(1, 10_i64.pow(u32::try_from(digits).expect("digits")).max(1));
            let b = match rng.range(0, 3) {
                0 => 0,
                1 => i32::try_from(rng.range(1, 50)).expect("b"),
                _ => i32::try_from(rng.range(0, 10_000)).expect("b"),
            };
            let n = match rng.range(0, 2) {
                0 => i32::try_from(rng.range(1, 24)).expect("n"),
                _ => i32::try_from(rng.range(1, 480)).expect("n"),
            };
            check(principal, b, n);
        }
    }

    #[test]
    fn property_grid_of_small_and_edge_terms() {
        for principal in [
            1,
            2,
            3,
            7,
            99,
            100,
            479,
            480,
            481,
            1_000,
            123_457,
            10_000_000,
            1_000_000_000_000,
        ] {
            for b in [0, 1, 2, 99, 100, 599, 1_200, 2_999, 9_999, 10_000] {
                for n in [1, 2, 3, 11, 12, 13, 59, 60, 119, 360, 479, 480] {
                    check(principal, b, n);
                }
            }
        }
    }

    #[test]
    fn due_dates_clamp_to_the_month_end() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(due_date(d(2025, 1, 31), 1), Some(d(2025, 2, 28)));
        assert_eq!(due_date(d(2025, 1, 31), 2), Some(d(2025, 3, 31)));
        assert_eq!(due_date(d(2024, 1, 31), 1), Some(d(2024, 2, 29)));
        assert_eq!(due_date(d(2025, 6, 15), 12), Some(d(2026, 6, 15)));
        assert_eq!(due_date(d(2025, 8, 31), 480), Some(d(2065, 8, 31)));
    }

    #[test]
    fn repayments_pay_interest_first_in_due_order() {
        let dues = [
            Due {
                payment: 100,
                interest: 10,
                paid: 0,
            },
            Due {
                payment: 100,
                interest: 8,
                paid: 0,
            },
        ];
        let a = allocate(&dues, 5).expect("fits");
        assert_eq!((a.interest, a.principal), (5, 0));
        let a = allocate(&dues, 150).expect("fits");
        assert_eq!((a.interest, a.principal), (18, 132));
        assert_eq!(a.per_installment, vec![(0, 100), (1, 50)]);
        assert_eq!(allocate(&dues, 201), Err(200));
        assert_eq!(allocate(&dues, 0), Err(200));
        // A partly paid installment continues where it stopped.
        let partly = [
            Due {
                payment: 100,
                interest: 10,
                paid: 7,
            },
            dues[1],
        ];
        let a = allocate(&partly, 10).expect("fits");
        assert_eq!((a.interest, a.principal), (3, 7));
    }

    #[test]
    fn property_paying_in_random_pieces_pays_the_schedule_exactly() {
        let mut rng = Rng(42);
        for _ in 0..200 {
            let principal = rng.range(1_000, 10_000_000);
            let b = i32::try_from(rng.range(0, 3_000)).expect("b");
            let n = i32::try_from(rng.range(1, 60)).expect("n");
            let Ok(s) = schedule(principal, b, n) else { continue };
            let mut dues: Vec<Due> = s
                .installments
                .iter()
                .map(|i| Due {
                    payment: i.payment,
                    interest: i.interest,
                    paid: 0,
                })
                .collect();
            let (mut interest, mut principal_paid) = (0, 0);
            while outstanding(&dues) > 0 {
                let owed = outstanding(&dues);
                let amount = rng.range(1, owed.min(s.level_payment * 2));
                let a = allocate(&dues, amount).expect("fits");
                for (index, part) in &a.per_installment {
                    dues[*index].paid += part;
                    assert!(dues[*index].paid <= dues[*index].payment);
                }
                interest += a.interest;
                principal_paid += a.principal;
            }
            assert_eq!(interest, s.total_interest);
            assert_eq!(principal_paid, principal);
        }
    }
}
