"""PowerBank use cases (SPEC §6): the sign-up flow and the toggle (:mod:`.service`), the
operator's compatibility list and terms (:mod:`.catalogue`), and what the programme does by
itself — DK2 auto-enrolment, and the dispatch seam (:mod:`.programme`)."""
