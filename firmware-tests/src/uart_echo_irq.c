/* Interrupt-driven UART receive (mps2-an385 CMSDK UART0, RX interrupt on NVIC line 0): the
 * RX handler clears the RX interrupt (INTCLEAR), reads DATA and queues the character; the
 * thread sleeps in WFI and echoes the queue in upper case on TX until '\n'. Checks that the
 * handler ran with IPSR 16 and that every character arrived through it. */
#include "check.h"
#include "uart.h"

static volatile char queue[64];
static volatile unsigned head, tail, rx_irqs, bad_ipsr;

void IRQ0_Handler(void)
{
    rx_irqs++;
    if (get_ipsr() != EXC_IRQ0 + 0)
        bad_ipsr++;
    /* Clear first, then drain: a character arriving after the drain raises a new interrupt. */
    CMSDK_UART_INTCLEAR(CMSDK_UART0) = CMSDK_INT_RX;
    while (CMSDK_UART_STATE(CMSDK_UART0) & CMSDK_STATE_RXFULL) {
        queue[head % sizeof queue] = (char)CMSDK_UART_DATA(CMSDK_UART0);
        head++;
    }
}

int main(void)
{
    qemu_serial_kick();
    cmsdk_uart_init(CMSDK_UART0, CMSDK_CTRL_TXEN | CMSDK_CTRL_RXEN | CMSDK_CTRL_RXIE);
    nvic_enable(0);
    unsigned n = 0;
    char c = 0;
    while (c != '\n') {
        cpsid_i();
        if (tail == head) {
            wfi(); /* wakes on the RX interrupt, taken after cpsie */
            cpsie_i();
            continue;
        }
        cpsie_i();
        c = queue[tail % sizeof queue];
        tail++;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        cmsdk_uart_putc(CMSDK_UART0, c);
        n++;
    }
    while (CMSDK_UART_STATE(CMSDK_UART0) & CMSDK_STATE_TXFULL) {
    }
    nvic_disable(0);
    /* head may be ahead of n: characters after the newline can arrive meanwhile */
    expect("every character echoed came through the rx interrupt", rx_irqs >= 1 && head >= n);
    expect_eq("ipsr 16 in the rx handler", bad_ipsr, 0);
    return check_done("uart_echo_irq");
}
