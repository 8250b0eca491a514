"""The department keeps no searchable records of its own: portfolios, absences and acting periods are found
through their pages (``/department/...``), and the records they point to are indexed by their own domains."""
