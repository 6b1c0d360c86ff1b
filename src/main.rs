fn main() {
    b24pay_widget::start();
}
