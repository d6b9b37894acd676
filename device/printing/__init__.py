"""Printing: the short summary on a receipt printer (ESC/POS) or a sheet, and PDFs through CUPS.

Heavy libraries (python-escpos, WeasyPrint) load only when something is printed.
"""

from device.printing.cups import JOB_STATES, CupsPrinter
from device.printing.errors import PrintError
from device.printing.pdf import summary_html, summary_pdf
from device.printing.receipt import ReceiptPrinter, ReceiptSpec, parse_spec
from device.printing.summary import format_summary, printable

__all__ = [
    "JOB_STATES",
    "CupsPrinter",
    "PrintError",
    "ReceiptPrinter",
    "ReceiptSpec",
    "format_summary",
    "parse_spec",
    "printable",
    "summary_html",
    "summary_pdf",
]
