"""What the decide and explain tests share: the review date and the model's name."""

from datetime import date

AS_OF = date(2005, 9, 30)
MODEL_REF = "uci-gbm@test"
