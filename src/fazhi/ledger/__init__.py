"""Work ledgers (台账): the Excel template, its checks, and the indicator values it implies."""
