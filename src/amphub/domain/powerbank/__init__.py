"""PowerBank enrolment rules (SPEC §6, R-PB; seed 001), decided here once and nowhere else.

A charge point may join PowerBank when its site lies in one of the programme's countries,
its brand and model (and, where the list says so, its firmware) are on the operator's
compatibility list, and — in Sweden — it has a valid Facility ID. Signing up and stopping
are for the roles that hold :attr:`Action.MANAGE_POWERBANK`. Charge points in Denmark East
(DK2) join automatically unless someone opted them out; a stop is remembered as an opt-out
that the system never undoes.

Pure: values in, decisions out. The application layer loads the facts and stores the result.
Modules: :mod:`.compatibility` (the list and firmware versions), :mod:`.eligibility`
(countries, Facility IDs, who may act) and :mod:`.enrolment` (sign-up, stop, the DK2 rule,
terms and conditions, the history kept).
"""
